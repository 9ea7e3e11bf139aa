namespace PerfOtel.Benchmarks.Storage;

/// <summary>The frames one B-tree (table or index) wrote into the WAL copies.</summary>
public sealed record TreeFrames(string Tree, long Frames);

/// <summary>
/// The commits of the copies taken <see cref="Window"/> at a time (consecutive, within one copy): the frames they wrote
/// and the distinct pages among them. A checkpoint that covers a window's commits copies each distinct page once, so
/// <c>DistinctPages / Frames</c> is the share of the frames such a checkpoint copies into the database file.
/// </summary>
/// <param name="Groups">Whole windows in all copies; the commits left over at the end of a copy are in none.</param>
/// <param name="FramesWithoutLargest">The same counts without the frames of the tree that wrote the most frames.</param>
public sealed record WindowFrames(int Window, int Groups, long Frames, long DistinctPages, long FramesWithoutLargest,
    long DistinctPagesWithoutLargest);

/// <summary>What <see cref="WalFramesCounter.Count"/> found in a set of WAL copies.</summary>
/// <param name="Trees">Every tree that wrote a frame, the most frames first.</param>
public sealed record WalFramesCounts(int Commits, long Frames, IReadOnlyList<TreeFrames> Trees,
    IReadOnlyList<WindowFrames> Windows)
{
    public double FramesPerCommit => Commits == 0 ? 0 : (double)Frames / Commits;

    /// <summary>The tree that wrote the most frames, left out of the windows' second pair of counts.</summary>
    public string? LargestTree => Trees.Count == 0 ? null : Trees[0].Tree;
}

/// <summary>
/// Counts the frames of WAL copies by the B-tree each frame's page belongs to, and per window of consecutive commits the
/// frames against the distinct pages. No I/O: the copies are read by <see cref="WalFramesReader"/> and the page owners
/// given as a function, so that a test can check the arithmetic on hand-made frames.
/// </summary>
/// <remarks>
/// Copies of one WAL taken at different times may hold the same commits: each copy's commits are counted as they are
/// (no de-duplication), which leaves the trees' shares of the frames as they are and weighs the overlap twice.
/// </remarks>
public static class WalFramesCounter
{
    public static WalFramesCounts Count(IReadOnlyList<WalGeneration> copies, Func<uint, string> treeOfPage,
        IReadOnlyList<int> windows)
    {
        var framesByTree = new Dictionary<string, long>(StringComparer.Ordinal);
        var commits = 0;
        long frames = 0;
        foreach (var commit in copies.SelectMany(c => c.Commits))
        {
            commits++;
            frames += commit.Length;
            foreach (var page in commit)
            {
                var tree = treeOfPage(page);
                framesByTree[tree] = framesByTree.GetValueOrDefault(tree) + 1;
            }
        }

        var trees = framesByTree.Select(p => new TreeFrames(p.Key, p.Value))
            .OrderByDescending(t => t.Frames).ThenBy(t => t.Tree, StringComparer.Ordinal).ToList();
        var largest = trees.Count == 0 ? null : trees[0].Tree;
        var counted = windows.Select(w => CountWindow(copies, w, page => largest is not null && treeOfPage(page) == largest)).ToList();
        return new WalFramesCounts(commits, frames, trees, counted);
    }

    private static WindowFrames CountWindow(IReadOnlyList<WalGeneration> copies, int window, Func<uint, bool> isLargest)
    {
        if (window < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "a window holds at least one commit");
        }

        var groups = 0;
        long frames = 0, distinct = 0, framesRest = 0, distinctRest = 0;
        var pages = new HashSet<uint>();
        foreach (var copy in copies)
        {
            for (var first = 0; first + window <= copy.Commits.Count; first += window)
            {
                groups++;
                pages.Clear();
                for (var i = first; i < first + window; i++)
                {
                    foreach (var page in copy.Commits[i])
                    {
                        var rest = !isLargest(page);
                        frames++;
                        framesRest += rest ? 1 : 0;
                        if (pages.Add(page))
                        {
                            distinct++;
                            distinctRest += rest ? 1 : 0;
                        }
                    }
                }
            }
        }

        return new WindowFrames(window, groups, frames, distinct, framesRest, distinctRest);
    }
}
