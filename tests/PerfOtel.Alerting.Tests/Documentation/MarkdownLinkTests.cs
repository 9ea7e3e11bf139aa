using PerfOtel.Testing;

namespace PerfOtel.Alerting.Tests.Documentation;

/// <summary>Relative links in the repository's Markdown lead somewhere inside the repository.</summary>
public sealed class MarkdownLinkTests
{
    [Fact]
    public void Every_relative_link_in_the_tracked_markdown_resolves_inside_the_repository()
    {
        var files = MarkdownLinks.TrackedFiles(RepoPaths.Root);
        Assert.Contains("README.md", files);
        Assert.Contains("docs/architecture.md", files);

        var broken = files.SelectMany(f => MarkdownLinks.Broken(RepoPaths.Root, f)).ToList();

        Assert.True(broken.Count == 0, "Broken relative links:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void No_table_in_the_tracked_markdown_is_cut_by_a_blank_line()
    {
        // A blank line between a table's rows ends the table: the rows after it render as a paragraph of pipes.
        var cut = new List<string>();
        foreach (var file in MarkdownLinks.TrackedFiles(RepoPaths.Root))
        {
            var lines = File.ReadAllLines(RepoPaths.Combine(file));
            for (var i = 1; i < lines.Length - 1; i++)
            {
                if (lines[i].Length == 0 && lines[i - 1].StartsWith('|') && lines[i + 1].StartsWith('|'))
                {
                    cut.Add($"{file}:{i + 1}");
                }
            }
        }

        Assert.True(cut.Count == 0, "Tables cut by a blank line:\n" + string.Join('\n', cut));
    }

    [Fact]
    public void The_link_checker_reports_missing_targets_unknown_anchors_and_links_out_of_the_repository()
    {
        var root = Directory.CreateTempSubdirectory("perfotel-links-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "docs", "sub"));
            File.WriteAllText(Path.Combine(root, "outside-marker.md"), "");
            File.WriteAllText(Path.Combine(root, "docs", "page.md"), """
                # Page title
                ## Options (`FooOptions`; the listener's)
                ## Options (`FooOptions`; the listener's)
                Back to [the start](../README.md#start) and [here](#page-title).
                """);
            File.WriteAllText(Path.Combine(root, "README.md"), """
                # Start
                [page](docs/page.md), [folder](docs/sub), [anchor](docs/page.md#options-foooptions-the-listeners),
                [repeat](docs/page.md#options-foooptions-the-listeners-1), [root-relative](/docs/page.md),
                [web](https://opentelemetry.io/docs/specs/), [mail](mailto:someone@example.com), [self](#start)
                [missing](docs/none.md) and ![missing image](docs/none.png)
                [bad anchor](docs/page.md#nope) and [bad self anchor](#nowhere)
                [outside](../shared/DESIGN.md)
                `[in code](docs/none.md)`
                ```
                [in a fence](docs/none.md)
                ```
                """);

            var broken = MarkdownLinks.Broken(root, "README.md").Concat(MarkdownLinks.Broken(root, "docs/page.md")).ToList();

            Assert.Equal(
            [
                "README.md:5: (docs/none.md) does not exist",
                "README.md:5: (docs/none.png) does not exist",
                "README.md:6: (docs/page.md#nope) has no heading with the anchor #nope",
                "README.md:6: (#nowhere) has no heading with the anchor #nowhere",
                "README.md:7: (../shared/DESIGN.md) leaves the repository",
            ], broken);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
