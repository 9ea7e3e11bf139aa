using PerfOtel.Collector.Derived.Thresholds;

namespace PerfOtel.Collector.Derived.Analytics.Reports;

/// <summary>
/// One benchmark metric of an agent: its value, its category against the configured bands, and its rank and
/// percentile among the tenant's agents that have a value (lower values are better on every benchmark metric).
/// </summary>
/// <param name="Metric"><c>response_time</c>, <c>tokens_per_run</c> or <c>steps_per_run</c>.</param>
/// <param name="Value">Mean latency in seconds, tokens per invocation, or steps (provider and tool calls) per invocation.</param>
/// <param name="Category"><c>excellent</c>, <c>good</c>, <c>acceptable</c> or <c>poor</c>; null without a value.</param>
/// <param name="Rank">1 for the best; agents with equal values share the better rank.</param>
/// <param name="Peers">Agents of the tenant with a value for this metric, this one included.</param>
/// <param name="Percentile">Share (0-100) of the other agents with a worse value; null when the agent has no peer.</param>
public sealed record MetricStanding(string Metric, double? Value, string? Category, int? Rank, int Peers, double? Percentile);

/// <summary>An agent's standing: every benchmark metric, and the ones named as its strengths and weaknesses.</summary>
public sealed record PeerStanding(
    IReadOnlyList<MetricStanding> Metrics, IReadOnlyList<string> Strengths, IReadOnlyList<string> Weaknesses);

/// <summary>
/// Benchmarks an agent against fixed bands (<c>Thresholds:ResponseTime*</c>, <c>TokensPerRun*</c>, <c>StepsPerRun*</c>)
/// and against the tenant's other agents in the same window. A metric is a strength when it is rated excellent or
/// the agent is strictly the best of two or more; a weakness when it is rated poor or the agent is strictly the worst
/// of two or more.
/// </summary>
public static class PeerStandings
{
    public const string ResponseTime = "response_time";
    public const string TokensPerRun = "tokens_per_run";
    public const string StepsPerRun = "steps_per_run";

    public const string Excellent = "excellent";
    public const string Good = "good";
    public const string Acceptable = "acceptable";
    public const string Poor = "poor";

    /// <summary>The standing of every agent report (by agent name), among the reports given.</summary>
    public static IReadOnlyDictionary<string, PeerStanding> Rank(IReadOnlyList<AgentReport> agents, ThresholdSet thresholds)
    {
        ArgumentNullException.ThrowIfNull(agents);
        ArgumentNullException.ThrowIfNull(thresholds);
        var metrics = new (string Name, Func<AgentReport, double?> Value, double Excellent, double Good, double Acceptable)[]
        {
            (ResponseTime, r => r.LatencyMeanSeconds, thresholds.ResponseTimeExcellentSeconds,
                thresholds.ResponseTimeGoodSeconds, thresholds.ResponseTimeAcceptableSeconds),
            (TokensPerRun, r => r.TokensPerInvocation, thresholds.TokensPerRunExcellent, thresholds.TokensPerRunGood,
                thresholds.TokensPerRunAcceptable),
            (StepsPerRun, r => r.StepsPerInvocation, thresholds.StepsPerRunExcellent, thresholds.StepsPerRunGood,
                thresholds.StepsPerRunAcceptable),
        };
        var standings = new Dictionary<string, PeerStanding>(StringComparer.Ordinal);
        var values = metrics.Select(m => agents.Select(m.Value).Where(v => v is { } x && double.IsFinite(x))
            .Select(v => v!.Value).ToList()).ToArray();
        foreach (var agent in agents)
        {
            var list = new List<MetricStanding>(metrics.Length);
            var strengths = new List<string>();
            var weaknesses = new List<string>();
            for (var m = 0; m < metrics.Length; m++)
            {
                var (name, value, excellent, good, acceptable) = metrics[m];
                if (value(agent) is not { } v || !double.IsFinite(v))
                {
                    list.Add(new MetricStanding(name, null, null, null, values[m].Count, null));
                    continue;
                }
                var peers = values[m];
                var better = peers.Count(p => p < v);
                var worse = peers.Count(p => p > v);
                var category = v <= excellent ? Excellent : v <= good ? Good : v <= acceptable ? Acceptable : Poor;
                double? percentile = peers.Count > 1 ? 100.0 * worse / (peers.Count - 1) : null;
                list.Add(new MetricStanding(name, v, category, better + 1, peers.Count, percentile));
                if (category == Excellent || peers.Count > 1 && better == 0 && worse > 0)
                {
                    strengths.Add(name);
                }
                if (category == Poor || peers.Count > 1 && worse == 0 && better > 0)
                {
                    weaknesses.Add(name);
                }
            }
            standings[agent.Agent ?? string.Empty] = new PeerStanding(list, strengths, weaknesses);
        }
        return standings;
    }
}
