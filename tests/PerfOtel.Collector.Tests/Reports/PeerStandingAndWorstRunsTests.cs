using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Runs;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Records;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.Reports;

/// <summary>
/// The rules of rest-api.md that the route tests leave out, worked by hand: equal values share the better rank (and a
/// tie for the best or the worst still names a strength or weakness), an agent without peers has no percentile, a
/// band's bound belongs to the better category; and the worst runs of each
/// breached metric other than the success and error rates (the slowest, the most expensive, the largest, the least
/// accurate, the lowest quality).
/// </summary>
public sealed class PeerStandingAndWorstRunsTests
{
    private static readonly ThresholdSet Defaults = new();

    private static AgentReport Report(string agent, double latency, double tokens, double steps) => new()
    {
        Tenant = "default", Agent = agent, Window = "1h", WindowStart = T0.AddHours(-1), WindowEnd = T0,
        Calibration = new CalibrationReport(0, 0, true, null, null, null, null, 0, []),
        Anomaly = new AnomalyReport(null, null, null, null, false),
        LatencyMeanSeconds = latency, TokensPerInvocation = tokens, StepsPerInvocation = steps,
    };

    private static MetricStanding Metric(PeerStanding standing, string metric) =>
        standing.Metrics.Single(m => m.Metric == metric);

    [Fact]
    public void Standing_EqualValuesShareTheBetterRank_AndBandBoundsBelongToTheBetterCategory()
    {
        // Response times 5, 5 and 12 s; tokens 1 000, 2 000, 2 000; steps 8, 8, 8 (all tied).
        var agents = new[] { Report("a", 5, 1_000, 8), Report("b", 5, 2_000, 8), Report("c", 12, 2_000, 8) };

        var ranked = PeerStandings.Rank(agents, Defaults);

        // a and b tie for the best response time: both rank 1, each with one of its two peers worse (50 %).
        Assert.Equal(new MetricStanding(PeerStandings.ResponseTime, 5, PeerStandings.Excellent, 1, 3, 50),
            Metric(ranked["a"], PeerStandings.ResponseTime));
        Assert.Equal(new MetricStanding(PeerStandings.ResponseTime, 5, PeerStandings.Excellent, 1, 3, 50),
            Metric(ranked["b"], PeerStandings.ResponseTime));
        Assert.Equal(new MetricStanding(PeerStandings.ResponseTime, 12, PeerStandings.Acceptable, 3, 3, 0),
            Metric(ranked["c"], PeerStandings.ResponseTime));
        // b and c tie for the worst tokens: rank 2 each, no peer worse.
        Assert.Equal(new MetricStanding(PeerStandings.TokensPerRun, 2_000, PeerStandings.Good, 2, 3, 0),
            Metric(ranked["c"], PeerStandings.TokensPerRun));
        // Everyone tied on steps (8: the acceptable bound): rank 1, nobody worse, neither strength nor weakness.
        Assert.All(agents, r => Assert.Equal(new MetricStanding(PeerStandings.StepsPerRun, 8, PeerStandings.Acceptable, 1, 3, 0),
            Metric(ranked[r.Agent!], PeerStandings.StepsPerRun)));
        // Strengths: excellent, or no peer better and at least one worse. a: response time (excellent, tied best) and
        // tokens (excellent, the best).
        Assert.Equal([PeerStandings.ResponseTime, PeerStandings.TokensPerRun], ranked["a"].Strengths);
        Assert.Empty(ranked["a"].Weaknesses);
        // Weaknesses: poor, or no peer worse and at least one better. c is the slowest; its tokens tie with b's for the
        // worst, a weakness of both.
        Assert.Equal([PeerStandings.ResponseTime, PeerStandings.TokensPerRun], ranked["c"].Weaknesses);
        Assert.Equal([PeerStandings.TokensPerRun], ranked["b"].Weaknesses);
        Assert.Empty(ranked["c"].Strengths);
    }

    [Fact]
    public void Standing_OfALoneAgent_HasRankOneAndNoPercentile_AndIsNeverTheWorstOfItsPeers()
    {
        var lone = PeerStandings.Rank([Report("solo", 25, 1_500, 4)], Defaults)["solo"];

        Assert.Equal(new MetricStanding(PeerStandings.ResponseTime, 25, PeerStandings.Poor, 1, 1, null),
            Metric(lone, PeerStandings.ResponseTime));
        Assert.Equal(new MetricStanding(PeerStandings.TokensPerRun, 1_500, PeerStandings.Good, 1, 1, null),
            Metric(lone, PeerStandings.TokensPerRun));
        // Only its bands speak: poor response time is a weakness, nothing is a strength without peers.
        Assert.Equal([PeerStandings.ResponseTime], lone.Weaknesses);
        Assert.Empty(lone.Strengths);
    }

    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Five runs, newest first as the store lists them.</summary>
    private static readonly RunSummary[] Runs =
    [
        Run("e", 4, Outcomes.Success, cost: 0.02, tokens: 900, accuracy: null, quality: 0.4),
        Run("d", 9, Outcomes.Partial, cost: null, tokens: 7_000, accuracy: 0.2, quality: null),
        Run("c", 2, Outcomes.Failure, cost: 0.05, tokens: 300, accuracy: 0.9, quality: 0.8),
        Run("b", 9, Outcomes.Success, cost: 0.01, tokens: 5_000, accuracy: 0.5, quality: 0.3),
        Run("a", 1, Outcomes.Failure, cost: 0.03, tokens: 6_000, accuracy: 0.1, quality: 0.9),
    ];

    private static RunSummary Run(string span, double seconds, string outcome, double? cost, long tokens, double? accuracy,
        double? quality) => new()
    {
        Tenant = "default", TraceId = new string('1', 32), SpanId = span.PadLeft(16, '0'), Agent = "planner",
        StartTime = T0, DurationSeconds = seconds, Outcome = outcome, CostUsd = cost,
        Tokens = new TokenCounts(tokens, 0, 0, 0, 0), Accuracy = accuracy, Quality = quality, Warnings = [],
    };

    [Theory]
    // Failures first, then partial runs, each newest first.
    [InlineData(TrendMetrics.SuccessRate, "c,a,d")]
    [InlineData(TrendMetrics.ErrorRate, "c,a,d")]
    // The slowest; d and b tie at 9 s and keep their newest-first order.
    [InlineData(TrendMetrics.LatencyP95, "d,b,e")]
    // The most expensive among the runs of known cost (d's is unknown).
    [InlineData(TrendMetrics.CostPerInvocation, "c,a,e")]
    [InlineData(TrendMetrics.TokensPerInvocation, "d,a,b")]
    // The least accurate among the runs with feedback, the lowest quality among those with a quality.
    [InlineData(TrendMetrics.Accuracy, "a,d,b")]
    [InlineData(TrendMetrics.Quality, "b,e,c")]
    public void WorstRuns_OfEachBreachedMetric(string metric, string expected)
    {
        var breach = new ThresholdBreach("default", "planner", "1h", metric, "warning", 0, 0, "above", "", "");

        var worst = WorstRuns.Of(breach, Runs);

        Assert.Equal(expected.Split(','), worst.Select(w => w.Run.SpanId.TrimStart('0')));
        Assert.All(worst, w => Assert.Equal(("planner", metric), (w.Agent, w.Metric)));
    }
}
