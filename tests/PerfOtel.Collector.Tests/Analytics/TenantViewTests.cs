using Microsoft.Extensions.Logging.Abstractions;
using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Records;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Analytics.Records;

namespace PerfOtel.Collector.Tests.Analytics;

/// <summary>
/// The tenant-wide passes (peer ranking, breaches, band counts, the agent list, the alert evaluation) are computed once
/// per view of a tenant's window and kept until the data, the bucket or an agent's status changes; kept or not, they
/// give the numbers of computing everything afresh, and never those of older data.
/// </summary>
public sealed class TenantViewTests
{
    private const int Hour = 0;
    private const int Week = 2;

    [Fact]
    public void Peer_table_ranks_exactly_as_comparing_each_agent_with_every_peer()
    {
        var clock = new ManualTimeProvider(Noon.AddMinutes(30));
        var windows = Analytics.Windows(clock);
        var random = new Random(20);
        for (var a = 0; a < 60; a++)
        {
            var agent = $"agent-{a:00}";
            // Few distinct values, so many agents tie; some agents have no provider or tool call (no tokens, no steps).
            for (var i = 0; i < 1 + a % 4; i++)
            {
                var invocation = Invocation(agent, Noon.AddMinutes(random.Next(25)), duration: random.Next(1, 6) * 0.5);
                windows.RecordInvocation(invocation);
                if (a % 5 != 0)
                {
                    windows.RecordProviderCall(Call(invocation, random.Next(1, 4) * 100, 50, 0.001));
                }
                for (var t = 0; t < a % 3; t++)
                {
                    windows.RecordToolCall(new ToolCall
                    {
                        Tenant = "default", TraceId = invocation.TraceId, SpanId = $"{a:x8}{i:x4}{t:x4}", InvocationSpanId = invocation.SpanId,
                        AgentName = agent, ToolName = "search", StartTime = invocation.StartTime, DurationSeconds = 0.1,
                    });
                }
            }
        }
        var view = windows.View("default", Hour);
        Assert.Equal(60, view.Reports.Count);
        var thresholds = windows.ThresholdsFor("default");
        var ranked = PeerStandings.Rank(view.Reports, thresholds);

        foreach (var report in view.Reports)
        {
            var expected = Pairwise(report, view.Reports, thresholds);
            AssertSameStanding(expected, view.Peers.Standing(report, inTable: true));
            AssertSameStanding(expected, ranked[report.Agent!]);
        }
        // An agent without data in the window is ranked as one more peer, as the agent answer has always done.
        var outsider = windows.Report(windows.Find("default", "agent-07")!, Hour) with { Agent = "outsider" };
        AssertSameStanding(Pairwise(outsider, [.. view.Reports, outsider], thresholds), view.Peers.Standing(outsider, inTable: false));
    }

    [Fact]
    public void View_is_kept_until_new_data_a_new_bucket_or_a_status_change_and_then_tells_the_new_numbers()
    {
        var clock = new ManualTimeProvider(Noon.AddMinutes(1));
        var windows = Analytics.Windows(clock);
        for (var a = 0; a < 20; a++)
        {
            windows.RecordInvocation(Invocation($"agent-{a:00}", Noon.AddMinutes(1)));
        }

        var first = windows.View("default", Week);
        Assert.Same(first, windows.View("default", Week));
        var health = AnalyticsQueries.Health(windows, "default", Week);
        Assert.Same(AnalyticsQueries.AgentList(windows, "default", Week), AnalyticsQueries.AgentList(windows, "default", Week));
        Assert.Equal(0, health.CriticalAlerts);

        // New data: agent-03 fails four times out of five. The next answers are new and say so.
        for (var i = 0; i < 4; i++)
        {
            windows.RecordInvocation(Invocation("agent-03", Noon.AddMinutes(1), Outcomes.Failure));
        }
        var second = windows.View("default", Week);
        Assert.NotSame(first, second);
        Assert.Equal(5, second.ReportOf("agent-03")!.Invocations);
        Assert.Equal(0.2, AnalyticsQueries.AgentList(windows, "default", Week).Agents.Single(a => a.Agent == "agent-03").SuccessRate);
        Assert.Contains(second.Breaches, b => b.Agent == "agent-03" && b.Metric == "success_rate" && b.Level == ThresholdEvaluator.Critical);
        Assert.Equal(second.Breaches.Count(b => b.Level == ThresholdEvaluator.Critical), AnalyticsQueries.Health(windows, "default", Week).CriticalAlerts);
        Assert.True(AnalyticsQueries.Health(windows, "default", Week).CriticalAlerts >= 1);
        var metrics = AnalyticsQueries.AgentMetrics(windows, "default", "agent-03", Week)!;
        Assert.Equal(5, Assert.Single(metrics.Windows).Invocations);

        // The clock alone: 16 minutes later, still in the same hour bucket of the 7d window, every agent turns idle.
        Assert.Same(second, windows.View("default", Week));
        clock.Advance(TimeSpan.FromMinutes(16));
        var idle = windows.View("default", Week);
        Assert.NotSame(second, idle);
        Assert.Equal(second.Changes, idle.Changes);
        Assert.All(idle.Reports, r => Assert.Equal("idle", r.Status));
        Assert.All(AnalyticsQueries.AgentList(windows, "default", Week).Agents, a => Assert.Equal("idle", a.Status));

        // A new bucket of the 1h window (a minute later) is a new view too.
        var hour = windows.View("default", Hour);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.NotSame(hour, windows.View("default", Hour));
    }

    [Fact]
    public void A_tenant_without_data_keeps_no_view()
    {
        var windows = Analytics.Windows(new ManualTimeProvider(Noon));
        windows.RecordInvocation(Invocation("agent", Noon));
        var nobody = windows.View("nobody", Hour);
        Assert.Empty(nobody.Reports);
        Assert.NotSame(nobody, windows.View("nobody", Hour));
        Assert.Same(windows.View("default", Hour), windows.View("default", Hour));
    }

    [Fact]
    public async Task Alert_evaluation_answers_the_same_until_the_data_changes_then_opens_and_resolves_as_before()
    {
        var clock = new ManualTimeProvider(Noon.AddMinutes(30));
        var windows = Analytics.Windows(clock);
        for (var a = 0; a < 10; a++)
        {
            windows.RecordInvocation(Invocation($"agent-{a}", Noon.AddMinutes(10)));
        }
        var tracker = new AlertTracker(windows, history: null, NullLogger<AlertTracker>.Instance);
        var none = await tracker.EvaluateAsync("default", CancellationToken.None);
        Assert.Empty(none);
        Assert.Same(none, await tracker.EvaluateAsync("default", CancellationToken.None));

        for (var i = 0; i < 3; i++)
        {
            windows.RecordInvocation(Invocation("agent-4", Noon.AddMinutes(20), Outcomes.Failure));
        }
        var opened = await tracker.EvaluateAsync("default", CancellationToken.None);
        var expected = Enumerable.Range(0, windows.Windows.Count)
            .SelectMany(w => windows.Agents("default", w).SelectMany(a =>
                ThresholdEvaluator.Evaluate(windows.Report(a, w), windows.ThresholdsFor("default", a.Agent), windows.Options.AnomalyThreshold)))
            .Select(b => (b.Agent, b.Window, b.Metric, b.Level, b.Value))
            .Order()
            .ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, opened.Select(a => (a.Agent, a.Window, a.Metric, a.Level, a.Value)).Order().ToList());
        Assert.Same(opened, await tracker.EvaluateAsync("default", CancellationToken.None));

        // Enough successes bring agent-4 back above 80 %: its alerts resolve.
        for (var i = 0; i < 20; i++)
        {
            windows.RecordInvocation(Invocation("agent-4", Noon.AddMinutes(21)));
        }
        Assert.Empty(await tracker.EvaluateAsync("default", CancellationToken.None));
    }

    /// <summary>The ranking by definition: compare the value with every peer's.</summary>
    private static PeerStanding Pairwise(AgentReport agent, IReadOnlyList<AgentReport> peers, ThresholdSet thresholds)
    {
        var metrics = new (string Name, Func<AgentReport, double?> Value, double Excellent, double Good, double Acceptable)[]
        {
            (PeerStandings.ResponseTime, r => r.LatencyMeanSeconds, thresholds.ResponseTimeExcellentSeconds, thresholds.ResponseTimeGoodSeconds, thresholds.ResponseTimeAcceptableSeconds),
            (PeerStandings.TokensPerRun, r => r.TokensPerInvocation, thresholds.TokensPerRunExcellent, thresholds.TokensPerRunGood, thresholds.TokensPerRunAcceptable),
            (PeerStandings.StepsPerRun, r => r.StepsPerInvocation, thresholds.StepsPerRunExcellent, thresholds.StepsPerRunGood, thresholds.StepsPerRunAcceptable),
        };
        var list = new List<MetricStanding>();
        var strengths = new List<string>();
        var weaknesses = new List<string>();
        foreach (var (name, value, excellent, good, acceptable) in metrics)
        {
            var values = peers.Select(value).Where(v => v is { } x && double.IsFinite(x)).Select(v => v!.Value).ToList();
            if (value(agent) is not { } v || !double.IsFinite(v))
            {
                list.Add(new MetricStanding(name, null, null, null, values.Count, null));
                continue;
            }
            var better = values.Count(p => p < v);
            var worse = values.Count(p => p > v);
            var category = v <= excellent ? "excellent" : v <= good ? "good" : v <= acceptable ? "acceptable" : "poor";
            list.Add(new MetricStanding(name, v, category, better + 1, values.Count, values.Count > 1 ? 100.0 * worse / (values.Count - 1) : null));
            if (category == "excellent" || values.Count > 1 && better == 0 && worse > 0)
            {
                strengths.Add(name);
            }
            if (category == "poor" || values.Count > 1 && worse == 0 && better > 0)
            {
                weaknesses.Add(name);
            }
        }
        return new PeerStanding(list, strengths, weaknesses);
    }

    private static void AssertSameStanding(PeerStanding expected, PeerStanding actual)
    {
        Assert.Equal(expected.Metrics, actual.Metrics);
        Assert.Equal(expected.Strengths, actual.Strengths);
        Assert.Equal(expected.Weaknesses, actual.Weaknesses);
    }
}
