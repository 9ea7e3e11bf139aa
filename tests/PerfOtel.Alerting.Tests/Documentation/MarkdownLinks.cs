using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace PerfOtel.Alerting.Tests.Documentation;

/// <summary>
/// Finds the relative links of Markdown files (<c>[text](path)</c>, <c>[text](path#anchor)</c>, images alike) that do
/// not resolve: the file or folder does not exist, the path leaves the repository, or the anchor names no heading of the
/// Markdown file it points into. Links with a scheme (https:, mailto:) are not followed; code blocks and code spans are
/// not read.
/// </summary>
internal static partial class MarkdownLinks
{
    /// <summary>The repository's tracked *.md files (git ls-files), relative to <paramref name="root"/>, with '/' separators.</summary>
    public static IReadOnlyList<string> TrackedFiles(string root)
    {
        var git = new ProcessStartInfo("git", ["-C", root, "ls-files", "-z", "--", "*.md"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(git) ?? throw new InvalidOperationException("git could not be started");
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"git ls-files failed in {root}: {process.StandardError.ReadToEnd()}");
        }
        // A file deleted in the work tree but not yet in the index is not documentation any more.
        return output.Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Where(f => File.Exists(Path.Combine(root, f)))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>One line per broken link of <paramref name="file"/>: "file:line: [target] reason".</summary>
    public static IEnumerable<string> Broken(string root, string file)
    {
        var fullRoot = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
        var path = Path.GetFullPath(Path.Combine(fullRoot, file));
        var lines = File.ReadAllLines(path);
        foreach (var (line, number) in ProseLines(lines))
        {
            foreach (Match match in LinkPattern().Matches(line))
            {
                var target = match.Groups["target"].Value;
                if (Problem(fullRoot, path, target) is { } problem)
                {
                    yield return $"{file}:{number}: ({target}) {problem}";
                }
            }
        }
    }

    private static string? Problem(string root, string from, string target)
    {
        if (SchemePattern().IsMatch(target))
        {
            return null;
        }
        var hash = target.IndexOf('#', StringComparison.Ordinal);
        var pathPart = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
        var anchor = hash < 0 ? "" : Uri.UnescapeDataString(target[(hash + 1)..]);

        string resolved;
        if (pathPart.Length == 0)
        {
            resolved = from;
        }
        else
        {
            var baseDirectory = pathPart.StartsWith('/') ? root : Path.GetDirectoryName(from)!;
            resolved = Path.GetFullPath(Path.Combine(baseDirectory, pathPart.TrimStart('/')));
            if (resolved != root && !resolved.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                return "leaves the repository";
            }
            if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                return "does not exist";
            }
        }
        if (anchor.Length > 0 && File.Exists(resolved) && resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase)
            && !Anchors(File.ReadAllLines(resolved)).Contains(anchor))
        {
            return $"has no heading with the anchor #{anchor}";
        }
        return null;
    }

    /// <summary>The anchors GitHub gives a Markdown file's headings (lower case, punctuation removed, spaces to '-', -1, -2 for repeats).</summary>
    public static HashSet<string> Anchors(IEnumerable<string> lines)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (line, _) in ProseLines(lines, keepCodeSpans: true))
        {
            var heading = HeadingPattern().Match(line);
            if (!heading.Success)
            {
                continue;
            }
            var text = LinkPattern().Replace(heading.Groups["text"].Value, m => m.Groups["text"].Value);
            var slug = new StringBuilder();
            foreach (var c in text.Trim().ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_' || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark)
                {
                    slug.Append(c);
                }
                else if (c == ' ')
                {
                    slug.Append('-');
                }
            }
            var anchor = slug.ToString();
            var count = seen.GetValueOrDefault(anchor);
            seen[anchor] = count + 1;
            anchors.Add(count == 0 ? anchor : $"{anchor}-{count}");
        }
        return anchors;
    }

    /// <summary>Lines outside fenced code blocks, with their 1-based numbers; code spans blanked unless kept.</summary>
    private static IEnumerable<(string Line, int Number)> ProseLines(IEnumerable<string> lines, bool keepCodeSpans = false)
    {
        string? fence = null;
        var number = 0;
        foreach (var line in lines)
        {
            number++;
            var trimmed = line.TrimStart();
            if (fence is null && (trimmed.StartsWith("```", StringComparison.Ordinal) || trimmed.StartsWith("~~~", StringComparison.Ordinal)))
            {
                fence = trimmed[..3];
                continue;
            }
            if (fence is not null)
            {
                if (trimmed.StartsWith(fence, StringComparison.Ordinal))
                {
                    fence = null;
                }
                continue;
            }
            yield return (keepCodeSpans ? line : CodeSpanPattern().Replace(line, ""), number);
        }
    }

    [GeneratedRegex(@"\[(?<text>[^\]]*)\]\(\s*<?(?<target>[^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex LinkPattern();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex SchemePattern();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.*?)\s*#*\s*$")]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"`+[^`]*`+")]
    private static partial Regex CodeSpanPattern();
}
