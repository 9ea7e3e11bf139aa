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
/// and against the tenant's other agents in the same window. A metric is a strength when it is rated excellent or no
/// peer is better and at least one is worse (the best, alone or tied); a weakness when it is rated poor or no peer is
/// worse and at least one is better (the worst, alone or tied).
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
        var table = new PeerTable(agents, thresholds);
        var standings = new Dictionary<string, PeerStanding>(StringComparer.Ordinal);
        foreach (var agent in agents)
        {
            standings[agent.Agent ?? string.Empty] = table.Standing(agent, inTable: true);
        }
        return standings;
    }
}

/// <summary>
/// The tenant's agents' values of each benchmark metric, sorted once: an agent's rank and percentile are then two binary
/// searches instead of a pass over every peer, so ranking all agents costs O(n log n) rather than O(n²), and one agent's
/// standing O(log n). The counts are exactly those of comparing the value with every peer's.
/// </summary>
public sealed class PeerTable
{
    private readonly (string Name, Func<AgentReport, double?> Value, double Excellent, double Good, double Acceptable)[] metrics;
    private readonly double[][] sorted;

    /// <param name="agents">The peers: every report whose finite value counts in a metric's ranking.</param>
    /// <param name="thresholds">The tenant's bands (<c>Thresholds:ResponseTime*</c>, <c>TokensPerRun*</c>, <c>StepsPerRun*</c>).</param>
    public PeerTable(IReadOnlyList<AgentReport> agents, ThresholdSet thresholds)
    {
        ArgumentNullException.ThrowIfNull(agents);
        ArgumentNullException.ThrowIfNull(thresholds);
        metrics =
        [
            (PeerStandings.ResponseTime, r => r.LatencyMeanSeconds, thresholds.ResponseTimeExcellentSeconds,
                thresholds.ResponseTimeGoodSeconds, thresholds.ResponseTimeAcceptableSeconds),
            (PeerStandings.TokensPerRun, r => r.TokensPerInvocation, thresholds.TokensPerRunExcellent, thresholds.TokensPerRunGood,
                thresholds.TokensPerRunAcceptable),
            (PeerStandings.StepsPerRun, r => r.StepsPerInvocation, thresholds.StepsPerRunExcellent, thresholds.StepsPerRunGood,
                thresholds.StepsPerRunAcceptable),
        ];
        sorted = new double[metrics.Length][];
        for (var m = 0; m < metrics.Length; m++)
        {
            var values = new List<double>(agents.Count);
            foreach (var agent in agents)
            {
                if (metrics[m].Value(agent) is { } v && double.IsFinite(v))
                {
                    values.Add(v);
                }
            }
            values.Sort();
            sorted[m] = [.. values];
        }
    }

    /// <summary>
    /// The standing of <paramref name="agent"/> among the table's reports. With <paramref name="inTable"/> false the
    /// agent is not one of them (it has no data in the window) and counts as one more peer where it has a value.
    /// </summary>
    public PeerStanding Standing(AgentReport agent, bool inTable)
    {
        ArgumentNullException.ThrowIfNull(agent);
        var list = new List<MetricStanding>(metrics.Length);
        var strengths = new List<string>();
        var weaknesses = new List<string>();
        for (var m = 0; m < metrics.Length; m++)
        {
            var (name, value, excellent, good, acceptable) = metrics[m];
            var peers = sorted[m];
            if (value(agent) is not { } v || !double.IsFinite(v))
            {
                list.Add(new MetricStanding(name, null, null, null, peers.Length, null));
                continue;
            }
            var count = peers.Length + (inTable ? 0 : 1);
            var better = LowerBound(peers, v);
            var worse = peers.Length - UpperBound(peers, v);
            var category = v <= excellent ? PeerStandings.Excellent : v <= good ? PeerStandings.Good
                : v <= acceptable ? PeerStandings.Acceptable : PeerStandings.Poor;
            double? percentile = count > 1 ? 100.0 * worse / (count - 1) : null;
            list.Add(new MetricStanding(name, v, category, better + 1, count, percentile));
            if (category == PeerStandings.Excellent || count > 1 && better == 0 && worse > 0)
            {
                strengths.Add(name);
            }
            if (category == PeerStandings.Poor || count > 1 && worse == 0 && better > 0)
            {
                weaknesses.Add(name);
            }
        }
        return new PeerStanding(list, strengths, weaknesses);
    }

    /// <summary>How many values are below <paramref name="v"/>.</summary>
    private static int LowerBound(double[] values, double v)
    {
        int low = 0, high = values.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (values[middle] < v)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }
        return low;
    }

    /// <summary>How many values are at most <paramref name="v"/>.</summary>
    private static int UpperBound(double[] values, double v)
    {
        int low = 0, high = values.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (values[middle] <= v)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }
        return low;
    }
}
