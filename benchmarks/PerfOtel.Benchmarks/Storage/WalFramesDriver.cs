using System.Globalization;
using System.Text;

namespace PerfOtel.Benchmarks.Storage;

/// <summary>
/// Which B-trees write the SQLite WAL's frames (#21): reads copies of a WAL taken during a run, attributes each frame of
/// their commits to the table or index its page belongs to in the database kept after the run, and says how many page
/// copies a checkpoint covering several commits would save. The collector's I/O per commit (the writer's pwrite of each
/// frame, the checkpointer's read and copy of it, the writeback) is proportional to these frames, so their owners say
/// where to cut. scripts/load/wal-frames.sh takes the copies during an <c>ingest-load</c> run and runs this.
/// </summary>
/// <example>
/// dotnet benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll wal-frames --database DIR/perfotel.db
///     --wal copy.1 --wal copy.2 --windows 1,3,10,20
/// </example>
public static class WalFramesDriver
{
    public const string Command = "wal-frames";

    private const string Usage = """
        usage: wal-frames --database PATH --wal PATH [--wal PATH ...] [--windows 1,3,10,20] [--owners auto|walk]
          --database  the database the WAL belongs to, after the run (its own PATH-wal, if any, is read over the file)
          --wal       a copy of the WAL taken while it was written; each copy's commits are counted (copies may overlap)
          --windows   commits taken W at a time: the frames they wrote against the distinct pages among them
          --owners    auto (default): SQLite's dbstat if this SQLite build has it, else a walk of the B-trees; walk: the walk
        """;

    public static int Run(string[] args)
    {
        string? database = null;
        var wals = new List<string>();
        int[] windows = [1, 3, 10, 20];
        var walk = false;
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--database" when value is not null: database = value; break;
                case "--wal" when value is not null: wals.Add(value); break;
                case "--windows" when value is not null && TryParseWindows(value, out var parsed): windows = parsed; break;
                case "--owners" when value is "auto" or "walk": walk = value == "walk"; break;
                default:
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        if (database is null || wals.Count == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var copies = wals.Select(path => (Path: path, Generation: WalFramesReader.Read(File.ReadAllBytes(path)))).ToList();
        var owners = WalFramesPageOwners.Read(database, walk);
        var counts = WalFramesCounter.Count(copies.Select(c => c.Generation).ToList(), owners.TreeOf, windows);
        Console.Write(Format(database, owners, copies, counts));
        return 0;
    }

    private static bool TryParseWindows(string text, out int[] windows)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        windows = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out windows[i]) || windows[i] < 1)
            {
                return false;
            }
        }

        return parts.Length > 0;
    }

    /// <summary>The report: the copies, the totals, the trees by frames, then the windows.</summary>
    public static string Format(string database, WalFramesPageOwners owners,
        IReadOnlyList<(string Path, WalGeneration Generation)> copies, WalFramesCounts counts)
    {
        var text = new StringBuilder();
        void Line(FormattableString line) => text.Append(line.ToString(CultureInfo.InvariantCulture)).Append('\n');

        Line($"wal-frames: {database}, {owners.PageCount} pages; pages mapped to B-trees by {owners.Source}");
        for (var i = 0; i < copies.Count; i++)
        {
            var (path, generation) = copies[i];
            var frames = generation.Frames;
            var end = generation.End switch
            {
                WalEnd.EndOfFile => "read to its end",
                WalEnd.EarlierGeneration => "stopped at a frame of an earlier generation",
                WalEnd.PartialFrame => "stopped at a partly copied frame",
                _ => "no WAL header (empty)",
            };
            Line($"  copy {i + 1} ({path}): {generation.Commits.Count} commits, {frames} frames, salts {generation.Salt1:x8} {generation.Salt2:x8}, {end}; {generation.FramesAfterLastCommit} frames after its last commit not counted");
        }

        Line($"Frame checksums are not verified (a frame is the generation's while its salts are the header's). Copies may overlap: each copy's commits are counted.");
        Line($"commits: {counts.Commits}, frames: {counts.Frames}, frames a commit: {counts.FramesPerCommit:F1}");
        text.Append('\n');
        Line($"| B-tree | frames | frames a commit | share |");
        Line($"|---|---:|---:|---:|");
        foreach (var tree in counts.Trees)
        {
            Line($"| {tree.Tree} | {tree.Frames} | {(double)tree.Frames / counts.Commits:F1} | {100.0 * tree.Frames / counts.Frames:F1} % |");
        }

        if (counts.Windows.Count > 0)
        {
            var largest = counts.LargestTree ?? "-";
            text.Append('\n');
            Line($"Commits taken W at a time (consecutive, within one copy; the commits left over at a copy's end are in no window): a checkpoint that covers W commits copies each distinct page once.");
            Line($"| W | windows | frames | distinct pages | distinct / frames | without {largest}: frames | distinct pages | distinct / frames |");
            Line($"|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var window in counts.Windows)
            {
                Line($"| {window.Window} | {window.Groups} | {window.Frames} | {window.DistinctPages} | {Ratio(window.DistinctPages, window.Frames)} | {window.FramesWithoutLargest} | {window.DistinctPagesWithoutLargest} | {Ratio(window.DistinctPagesWithoutLargest, window.FramesWithoutLargest)} |");
            }
        }

        return text.ToString();
    }

    private static string Ratio(long part, long whole) =>
        whole == 0 ? "-" : ((double)part / whole).ToString("F3", CultureInfo.InvariantCulture);
}
