using System.Text.RegularExpressions;

namespace PerfOtel.Alerting.Tests.PromQl;

/// <summary>A series selector in an expression: the metric name and the labels its matchers name.</summary>
internal sealed record SelectorReference(string Metric, IReadOnlyList<string> MatcherLabels);

/// <summary>Every metric and label name an expression refers to.</summary>
/// <param name="Selectors">Metric names with their matchers' labels.</param>
/// <param name="Labels">Labels named outside selectors: bare <c>{...}</c> matchers, by/without/on/ignoring/group_* lists,
/// and the source labels of label_replace.</param>
/// <param name="IntroducedLabels">Labels an expression creates (the destination of label_replace).</param>
internal sealed record PromQlReferences(
    IReadOnlyList<SelectorReference> Selectors,
    IReadOnlyList<string> Labels,
    IReadOnlyList<string> IntroducedLabels);

/// <summary>
/// A small PromQL scanner, enough to find the names an expression depends on without a full parser: an identifier is
/// a metric name unless it is a keyword, an aggregation operator or a function (followed by <c>(</c>); label names
/// appear in <c>{}</c> matchers and in the parenthesised lists after by, without, on, ignoring, group_left and
/// group_right. Range and subquery brackets are skipped (they hold durations and Grafana's <c>$__rate_interval</c>).
/// </summary>
internal static partial class PromQlScanner
{
    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "and", "or", "unless", "offset", "bool", "inf", "nan", "atan2",
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile",
        "limitk", "limit_ratio",
    };

    private static readonly HashSet<string> LabelListKeywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right",
    };

    public static PromQlReferences Scan(string expression)
    {
        var selectors = new List<SelectorReference>();
        var labels = new List<string>();
        var introduced = new List<string>();
        var text = expression;
        var i = 0;
        string? pendingMetric = null;

        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            if (c is '"' or '\'' or '`')
            {
                FlushMetric(ref pendingMetric, selectors);
                i = SkipString(text, i);
                continue;
            }
            if (c == '[')
            {
                FlushMetric(ref pendingMetric, selectors);
                i = Skip(text, i, '[', ']');
                continue;
            }
            if (c == '{')
            {
                var (matcherLabels, end) = ReadMatchers(text, i);
                if (pendingMetric is not null)
                {
                    selectors.Add(new SelectorReference(pendingMetric, matcherLabels));
                    pendingMetric = null;
                }
                else
                {
                    labels.AddRange(matcherLabels);
                }
                i = end;
                continue;
            }
            if (c == '#')
            {
                // A comment runs to the end of the line.
                FlushMetric(ref pendingMetric, selectors);
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }
                continue;
            }
            if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
            {
                FlushMetric(ref pendingMetric, selectors);
                i = SkipNumber(text, i);
                continue;
            }
            if (IsIdentifierStart(c) || c == '$')
            {
                FlushMetric(ref pendingMetric, selectors);
                var start = i;
                i++;
                while (i < text.Length && IsIdentifierPart(text[i]))
                {
                    i++;
                }
                var word = text[start..i];
                if (c == '$')
                {
                    continue; // a Grafana variable
                }
                var next = NextNonSpace(text, i);
                if (LabelListKeywords.Contains(word))
                {
                    if (next < text.Length && text[next] == '(')
                    {
                        var close = Skip(text, next, '(', ')');
                        labels.AddRange(SplitLabelList(text[(next + 1)..(close - 1)]));
                        i = close;
                    }
                    continue;
                }
                if (Keywords.Contains(word) || (next < text.Length && text[next] == '('))
                {
                    continue; // an operator, an aggregation or a function
                }
                pendingMetric = word;
                continue;
            }
            FlushMetric(ref pendingMetric, selectors);
            i++;
        }
        FlushMetric(ref pendingMetric, selectors);

        foreach (Match m in LabelReplaceTail().Matches(expression))
        {
            introduced.Add(m.Groups["dst"].Value);
            if (m.Groups["src"].Value.Length > 0)
            {
                labels.Add(m.Groups["src"].Value);
            }
        }
        return new PromQlReferences(selectors, labels, introduced);
    }

    private static void FlushMetric(ref string? pendingMetric, List<SelectorReference> selectors)
    {
        if (pendingMetric is not null)
        {
            selectors.Add(new SelectorReference(pendingMetric, []));
            pendingMetric = null;
        }
    }

    private static (List<string> Labels, int End) ReadMatchers(string text, int open)
    {
        var labels = new List<string>();
        var i = open + 1;
        while (i < text.Length && text[i] != '}')
        {
            var c = text[i];
            if (char.IsWhiteSpace(c) || c == ',')
            {
                i++;
            }
            else if (c is '"' or '\'' or '`')
            {
                i = SkipString(text, i);
            }
            else if (IsIdentifierStart(c))
            {
                var start = i;
                while (i < text.Length && IsIdentifierPart(text[i]) && text[i] != ':')
                {
                    i++;
                }
                labels.Add(text[start..i]);
            }
            else
            {
                i++; // = != =~ !~
            }
        }
        if (i >= text.Length)
        {
            throw new FormatException("unclosed '{' in: " + text);
        }
        return (labels, i + 1);
    }

    private static IEnumerable<string> SplitLabelList(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static int Skip(string text, int open, char opening, char closing)
    {
        var depth = 0;
        for (var i = open; i < text.Length; i++)
        {
            if (text[i] is '"' or '\'' or '`')
            {
                i = SkipString(text, i) - 1;
                continue;
            }
            if (text[i] == opening)
            {
                depth++;
            }
            else if (text[i] == closing && --depth == 0)
            {
                return i + 1;
            }
        }
        throw new FormatException($"unclosed '{opening}' in: {text}");
    }

    private static int SkipString(string text, int open)
    {
        var quote = text[open];
        for (var i = open + 1; i < text.Length; i++)
        {
            if (text[i] == '\\' && quote != '`')
            {
                i++;
            }
            else if (text[i] == quote)
            {
                return i + 1;
            }
        }
        throw new FormatException("unclosed string in: " + text);
    }

    private static int SkipNumber(string text, int i)
    {
        while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '.' or '_'))
        {
            // Exponents carry a sign: 1e+3.
            if (text[i] is 'e' or 'E' && i + 1 < text.Length && text[i + 1] is '+' or '-')
            {
                i++;
            }
            i++;
        }
        return i;
    }

    private static int NextNonSpace(string text, int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }
        return i;
    }

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c is '_' or ':';

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or ':';

    // label_replace(v, "dst", "replacement", "src", "regex") is the only PromQL function ending in four string
    // arguments, so the tail alone identifies it, however deeply calls nest.
    [GeneratedRegex("""(?<![\w"])"(?<dst>[^"]*)"\s*,\s*"[^"]*"\s*,\s*"(?<src>[^"]*)"\s*,\s*"[^"]*"\s*\)""")]
    private static partial Regex LabelReplaceTail();
}
