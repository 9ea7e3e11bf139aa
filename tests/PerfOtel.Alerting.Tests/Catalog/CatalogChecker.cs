using PerfOtel.Alerting.Tests.PromQl;

namespace PerfOtel.Alerting.Tests.Catalog;

/// <summary>
/// Checks the names an expression uses against what exists: metrics from the code's catalogs (with their labels),
/// series recorded by the rules, and the labels the rules introduce (label_replace destinations, rule labels).
/// </summary>
internal sealed class CatalogChecker
{
    /// <summary>Labels that Prometheus or the OpenTelemetry SDK and exporter add, whatever the metric.</summary>
    public static readonly IReadOnlySet<string> SdkLabels = new HashSet<string>(StringComparer.Ordinal)
    {
        "job", "instance", "otel_scope_name", "le", "quantile",
    };

    /// <summary>Series Prometheus itself produces: <c>up</c> per target, <c>ALERTS</c> per alert (with the alert's labels).</summary>
    private static readonly Dictionary<string, string[]> PrometheusSeries = new(StringComparer.Ordinal)
    {
        ["up"] = ["job", "instance"],
        ["ALERTS"] = ["alertname", "alertstate"],
    };

    private readonly IReadOnlyDictionary<string, CatalogMetric> catalog;
    private readonly IReadOnlySet<string> recorded;
    private readonly HashSet<string> knownLabels;

    public CatalogChecker(IReadOnlyDictionary<string, CatalogMetric> catalog, IReadOnlySet<string> recorded, IEnumerable<string> ruleLabels)
    {
        this.catalog = catalog;
        this.recorded = recorded;
        knownLabels = new HashSet<string>(SdkLabels, StringComparer.Ordinal);
        knownLabels.UnionWith(catalog.Values.SelectMany(m => m.Labels));
        knownLabels.UnionWith(ruleLabels);
    }

    public IEnumerable<string> Problems(string where, string expression)
    {
        PromQlReferences references;
        try
        {
            references = PromQlScanner.Scan(expression);
        }
        catch (FormatException e)
        {
            return [$"{where}: cannot scan the expression: {e.Message}"];
        }

        var problems = new List<string>();
        foreach (var selector in references.Selectors)
        {
            if (catalog.TryGetValue(selector.Metric, out var metric))
            {
                problems.AddRange(selector.MatcherLabels
                    .Where(l => !metric.Labels.Contains(l) && !SdkLabels.Contains(l))
                    .Select(l => $"{where}: label '{l}' is not a label of {selector.Metric} ({metric.Source})"));
            }
            else if (recorded.Contains(selector.Metric))
            {
                problems.AddRange(UnknownLabels(where, selector.MatcherLabels));
            }
            else if (PrometheusSeries.TryGetValue(selector.Metric, out var ownLabels))
            {
                problems.AddRange(UnknownLabels(where, selector.MatcherLabels.Except(ownLabels)));
            }
            else
            {
                problems.Add($"{where}: metric '{selector.Metric}' is neither in the code's catalogs nor recorded by a rule");
            }
        }
        problems.AddRange(UnknownLabels(where, references.Labels.Except(PrometheusSeries["ALERTS"])));
        return problems;
    }

    public IEnumerable<string> UnknownLabels(string where, IEnumerable<string> labels) =>
        labels.Where(l => !knownLabels.Contains(l)).Distinct().Select(l => $"{where}: label '{l}' is in no catalog and introduced by no rule");
}
