using System.Text.RegularExpressions;
using PerfOtel.Alerting.Tests.Assets;

namespace PerfOtel.Alerting.Tests.EndToEnd;

/// <summary>One PromQL target of a dashboard panel, with Grafana's variables already substituted.</summary>
internal sealed record DashboardQuery(string Dashboard, string Panel, string Template, string PromQl)
{
    public override string ToString() => $"{Dashboard}: {Panel}: {PromQl}";
}

/// <summary>
/// Turns the dashboards' targets into queries Prometheus can run, substituting what Grafana would: the template
/// variables by the values a user would pick, and Grafana's interval variables by values that fit a 1 s scrape.
/// </summary>
internal static partial class DashboardQueries
{
    public static IReadOnlyList<DashboardQuery> All(IReadOnlyDictionary<string, string> variables)
    {
        var queries = new List<DashboardQuery>();
        foreach (var dashboard in Dashboard.All())
        {
            foreach (var panel in dashboard.DataPanels)
            {
                foreach (var target in Dashboard.Targets(panel))
                {
                    if (target.TryGetProperty("expr", out var expr) && expr.GetString() is { Length: > 0 } template)
                    {
                        queries.Add(new DashboardQuery(dashboard.File, Dashboard.Describe(panel), template, Substitute(template, variables)));
                    }
                }
            }
        }
        return queries;
    }

    /// <summary>Replaces $name, ${name} and [[name]]; a variable without a value fails loudly rather than querying "$x".</summary>
    public static string Substitute(string template, IReadOnlyDictionary<string, string> variables) =>
        Variable().Replace(template, match =>
        {
            var name = match.Groups["braced"].Success ? match.Groups["braced"].Value
                : match.Groups["bracketed"].Success ? match.Groups["bracketed"].Value
                : match.Groups["plain"].Value;
            return variables.TryGetValue(name, out var value)
                ? value
                : throw new InvalidOperationException($"no value for the dashboard variable ${name} in: {template}");
        });

    [GeneratedRegex(@"\$\{(?<braced>\w+)(:\w+)?\}|\[\[(?<bracketed>\w+)\]\]|\$(?<plain>\w+)")]
    private static partial Regex Variable();
}
