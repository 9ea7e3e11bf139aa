using Microsoft.Extensions.Logging.Abstractions;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Analytics.Records;
using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Analytics;

public class RollingWindowTests
{
    private const int Hour = 0;
    private const int Day = 1;

    private readonly ManualTimeProvider clock = new(Noon.AddSeconds(30));
    private readonly RollingWindows windows;
    private readonly AnalyticsDerivation observer;

    public RollingWindowTests()
    {
        windows = Analytics.Windows(clock);
        observer = new AnalyticsDerivation(windows);
    }

    private AgentReport Report(string agent, int window) => windows.Report(windows.Find("default", agent)!, window);

    [Fact]
    public void Invocations_leave_the_1h_window_when_their_bucket_does_and_stay_in_24h()
    {
        observer.Apply(Batch([.. Enumerable.Range(0, 10).Select(_ => Invocation("planner", Noon.AddSeconds(10)))]));
        Assert.Equal(10, Report("planner", Hour).Invocations);

        clock.Set(Noon.AddMinutes(59).AddSeconds(59));
        Assert.Equal(10, Report("planner", Hour).Invocations);

        // At 13:00 the 1h window is the buckets 12:01 to 13:00: the 12:00 bucket has left it.
        clock.Set(Noon.AddHours(1));
        Assert.Equal(0, Report("planner", Hour).Invocations);
        Assert.Equal(10, Report("planner", Day).Invocations);

        clock.Set(Noon.AddHours(24));
        Assert.Equal(0, Report("planner", Day).Invocations);
    }

    [Fact]
    public void The_7d_window_keeps_a_week_in_hourly_buckets_and_compares_it_with_the_week_before()
    {
        const int Week = 2;
        Assert.Equal("7d", windows.Windows[Week].Name);
        // Last week: 4 of 10 succeed (a day and a half before the window starts); this week: 9 of 10 six days ago.
        observer.Apply(Batch([
            .. Enumerable.Range(0, 10).Select(i => Invocation("planner", Noon.AddDays(-8), i < 4 ? Outcomes.Success : Outcomes.Failure)),
            .. Enumerable.Range(0, 10).Select(i => Invocation("planner", Noon.AddDays(-6).AddMinutes(5), i < 9 ? Outcomes.Success : Outcomes.Failure)),
        ]));

        var week = Report("planner", Week);
        Assert.Equal(10, week.Invocations);
        Assert.Equal(0.9, week.SuccessRate!.Value, 12);
        Assert.Equal(1, week.Trends[TrendMetrics.SuccessRate]);
        Assert.Equal(0, Report("planner", Day).Invocations);
        // The window ends with the current hour and starts 168 hourly buckets earlier.
        Assert.Equal(Noon.AddHours(1), week.WindowEnd);
        Assert.Equal(Noon.AddHours(1).AddDays(-7), week.WindowStart);

        // The bucket of six days ago (12:00-13:00) is in the window until 168 hours after it began, then leaves it.
        clock.Set(Noon.AddDays(1).AddMinutes(-1));
        Assert.Equal(10, Report("planner", Week).Invocations);
        clock.Set(Noon.AddDays(1));
        Assert.Equal(0, Report("planner", Week).Invocations);
    }

    [Fact]
    public void Data_older_than_two_windows_is_not_counted_and_future_data_counts_now()
    {
        observer.Apply(Batch(Invocation("planner", Noon.AddHours(-49)), Invocation("planner", Noon.AddMinutes(3))));
        Assert.Equal(1, Report("planner", Hour).Invocations);
        Assert.Equal(1, Report("planner", Day).Invocations);
    }

    [Fact]
    public void The_previous_window_gives_the_trend()
    {
        // 11:00-12:00: 8 of 10 succeed; 12:00-13:00: 10 of 10. Success rate +25 %: improving; error rate 0.2 -> 0 has
        // a defined relative change of -100 %: improving.
        clock.Set(Noon.AddMinutes(-30));
        observer.Apply(Batch([.. Enumerable.Range(0, 10).Select(i => Invocation("planner", Noon.AddMinutes(-40),
            i < 8 ? Outcomes.Success : Outcomes.Failure))]));
        clock.Set(Noon.AddMinutes(30));
        observer.Apply(Batch([.. Enumerable.Range(0, 10).Select(_ => Invocation("planner", Noon.AddMinutes(10)))]));

        var report = Report("planner", Hour);
        Assert.Equal(1, report.Trends[TrendMetrics.SuccessRate]);
        Assert.Equal(1, report.Trends[TrendMetrics.ErrorRate]);
        Assert.Equal(0, report.Trends[TrendMetrics.LatencyP95]);
        Assert.False(report.Trends.ContainsKey(TrendMetrics.Accuracy));
    }

    [Fact]
    public void Outcome_rates_latency_tokens_and_cost_per_invocation()
    {
        var invocations = new[]
        {
            Invocation("coder", Noon, Outcomes.Success, duration: 1.0),
            Invocation("coder", Noon, Outcomes.Success, duration: 2.0),
            Invocation("coder", Noon, Outcomes.Failure, duration: 3.0),
            Invocation("coder", Noon, Outcomes.Partial, duration: 4.0),
        };
        var batch = Batch(invocations);
        batch.ProviderCalls.Add(Call(invocations[0], 1000, 200, 0.01));
        batch.ProviderCalls.Add(Call(invocations[1], 600, 200, 0.03));
        observer.Apply(batch);

        var report = Report("coder", Hour);
        Assert.Equal(0.5, report.SuccessRate);
        Assert.Equal(0.25, report.ErrorRate);
        Assert.Equal(1, report.Partials);
        Assert.Equal(2.5, report.LatencyMeanSeconds!.Value, 12);
        Assert.Equal(500, report.TokensPerInvocation);
        Assert.Equal(0.01, report.CostPerInvocationUsd!.Value, 12);
        // Nearest rank 4 of 4 = 4 s, within the histogram's error bound.
        Assert.InRange(report.LatencyP95Seconds!.Value, 4 * 0.914, 4 * 1.087);
    }

    [Fact]
    public void Accuracy_comes_from_feedback_accuracy_then_score_then_success_and_from_accuracy_evaluations()
    {
        var a = Invocation("qa", Noon);
        var b = Invocation("qa", Noon);
        var c = Invocation("qa", Noon);
        var d = Invocation("qa", Noon);
        var batch = Batch(a, b, c, d);
        batch.Evaluations.Add(Evaluation(d, "accuracy", 0.4, withAgent: false));
        batch.Evaluations.Add(Evaluation(d, "relevance", 0.0));
        observer.Apply(batch);
        observer.Apply(Joined(new FeedbackJoin(a, FeedbackOn(a, success: true, score: 0.1, accuracy: 0.9))));
        observer.Apply(Joined(new FeedbackJoin(b, FeedbackOn(b, success: true, score: 0.5))));
        observer.Apply(Joined(new FeedbackJoin(c, FeedbackOn(c, success: false))));

        var report = Report("qa", Hour);
        // (0.9 + 0.5 + 0 + 0.4) / 4 = 0.45; the relevance evaluation is not an accuracy sample.
        Assert.Equal(4, report.AccuracySamples);
        Assert.Equal(0.45, report.Accuracy!.Value, 12);
    }

    [Fact]
    public void Quality_is_the_unweighted_mean_of_the_invocations_quality_scores_and_enters_health_and_trend()
    {
        // 11:00-12:00: quality 0.9 and 0.7 (mean 0.8); 12:00-13:00: 0.6, 0.5 and one invocation without a score
        // (mean 0.55, two samples). Relative change (0.55 - 0.8) / 0.8 = -31 %: degrading.
        clock.Set(Noon.AddMinutes(-30));
        observer.Apply(Batch(Invocation("writer", Noon.AddMinutes(-40), quality: 0.9),
            Invocation("writer", Noon.AddMinutes(-40), quality: 0.7)));
        clock.Set(Noon.AddMinutes(30));
        var sampled = Invocation("writer", Noon.AddMinutes(10), quality: 0.6) with { SampleWeight = 10 };
        observer.Apply(Batch(sampled, Invocation("writer", Noon.AddMinutes(10), quality: 0.5),
            Invocation("writer", Noon.AddMinutes(10))));

        var report = Report("writer", Hour);
        Assert.Equal(2, report.QualitySamples);
        Assert.Equal(1.1, report.QualitySum, 12);
        // Unweighted like accuracy: the sampled invocation's weight of 10 counts its invocation ten times, its quality once.
        Assert.Equal(0.55, report.Quality!.Value, 12);
        Assert.Equal(-1, report.Trends[TrendMetrics.Quality]);
        // Health: s = 1, e = 0, l = 1 (1 s against 5 s), q = 0.55, no accuracy: 100 * (90 + 5.5) / 100 = 95.5.
        Assert.Equal(95.5, report.HealthScore!.Value, 9);
        Assert.Null(Report("writer", Hour).Accuracy);
    }

    [Fact]
    public void Feedback_verdict_rescores_the_calibration_sample_of_its_invocation()
    {
        var invocation = Invocation("qa", Noon, Outcomes.Success, confidence: 0.9);
        observer.Apply(Batch(invocation));
        Assert.Equal(1, Report("qa", Hour).Calibration.Bins[9].Successes);

        observer.Apply(Joined(new FeedbackJoin(invocation, FeedbackOn(invocation, success: false))));
        var calibration = Report("qa", Hour).Calibration;
        Assert.Equal(1, calibration.Samples);
        Assert.Equal(0, calibration.Bins[9].Successes);
        Assert.Equal(0.81, calibration.SquaredErrorSum, 12);
    }

    [Fact]
    public void Feedback_joined_at_write_time_counts_like_feedback_joined_later()
    {
        var invocation = Invocation("qa", Noon, confidence: 0.9);
        var batch = Batch(invocation);
        batch.JoinedFeedback.Add(new FeedbackJoin(invocation, FeedbackOn(invocation, accuracy: 0.25)));
        observer.Apply(batch);
        Assert.Equal(0.25, Report("qa", Hour).Accuracy);
    }

    [Fact]
    public void Calibration_follows_the_overconfident_vector_once_the_minimum_is_reached()
    {
        // 30 samples at 0.9 with 21 successes: ECE = MCE = 0.2, Brier = (21 * 0.01 + 9 * 0.81) / 30 = 0.25.
        observer.Apply(Batch([.. Enumerable.Range(0, 29).Select(i =>
            Invocation("bold", Noon, i < 20 ? Outcomes.Success : Outcomes.Failure, confidence: 0.9))]));
        Assert.True(Report("bold", Hour).Calibration.Withheld);
        Assert.Null(Report("bold", Hour).Calibration.ExpectedCalibrationError);

        observer.Apply(Batch(Invocation("bold", Noon, Outcomes.Success, confidence: 0.9)));
        var calibration = Report("bold", Hour).Calibration;
        Assert.False(calibration.Withheld);
        Assert.Equal(0.2, calibration.ExpectedCalibrationError!.Value, 12);
        Assert.Equal(0.2, calibration.MaximumCalibrationError!.Value, 12);
        Assert.Equal(0.25, calibration.BrierScore!.Value, 12);
        Assert.Equal(0.2, calibration.Overconfidence!.Value, 12);
    }

    [Fact]
    public void Health_score_and_band_follow_the_formula_with_the_tenant_latency_limit()
    {
        // 9 of 10 succeed, 1 fails, all 7.5 s: l = 0.5 with T = 5 s. 100 * (36 + 15 + 18) / 90 = 76.67 -> good.
        observer.Apply(Batch([.. Enumerable.Range(0, 10).Select(i =>
            Invocation("slow", Noon, i < 9 ? Outcomes.Success : Outcomes.Failure, duration: 7.5))]));
        var report = Report("slow", Hour);
        var l = Collector.Derived.Analytics.Formulas.HealthScore.LatencyTerm(report.LatencyP95Seconds!.Value, 5);
        Assert.InRange(l, 0.45, 0.55);
        Assert.Equal(100 * (36 + 30 * l + 18) / 90, report.HealthScore!.Value, 9);
        Assert.Equal("good", report.HealthBand);
    }

    [Fact]
    public void Task_types_give_specialization_and_are_capped_per_agent()
    {
        var small = Analytics.Windows(clock, new AnalyticsOptions { MaxTaskTypesPerAgent = 2 });
        var capped = new AnalyticsDerivation(small);
        capped.Apply(Batch(
            Invocation("router", Noon, taskType: "review"), Invocation("router", Noon, taskType: "review"),
            Invocation("router", Noon, taskType: "review"),
            Invocation("router", Noon, Outcomes.Failure, taskType: "summarize"),
            Invocation("router", Noon, Outcomes.Failure, taskType: "translate"),
            Invocation("router", Noon, taskType: "classify")));
        var report = small.Report(small.Find("default", "router")!, Hour);
        Assert.Equal(["(other)", "review", "summarize"], report.TaskTypes.Select(t => t.TaskType));
        Assert.Equal("review", report.MainTaskType);
        // review 3/3 against the others 1/3.
        Assert.Equal(1 - 1.0 / 3, report.SpecializationScore!.Value, 12);
    }

    [Fact]
    public void A_spike_in_the_latest_minute_is_an_anomaly()
    {
        for (var minute = 0; minute < 20; minute++)
        {
            clock.Set(Noon.AddMinutes(minute).AddSeconds(30));
            observer.Apply(Batch(
                Invocation("steady", Noon.AddMinutes(minute), duration: 1.0 + 0.1 * (minute % 2)),
                Invocation("steady", Noon.AddMinutes(minute), duration: 1.0)));
        }
        clock.Set(Noon.AddMinutes(20).AddSeconds(5));
        var calm = Report("steady", Hour).Anomaly;
        Assert.NotNull(calm.Score);
        Assert.False(calm.Anomalous);

        observer.Apply(Batch(Invocation("steady", Noon.AddMinutes(20), duration: 9.0),
            Invocation("steady", Noon.AddMinutes(20), duration: 9.0)));
        clock.Set(Noon.AddMinutes(21).AddSeconds(5));
        var spike = Report("steady", Hour).Anomaly;
        Assert.True(spike.Anomalous);
        Assert.True(spike.Latency > 3);
    }

    [Fact]
    public void Tenant_report_sums_agents_before_deriving()
    {
        observer.Apply(Batch(
            Invocation("a", Noon), Invocation("a", Noon), Invocation("a", Noon), Invocation("a", Noon, Outcomes.Failure),
            Invocation("b", Noon, Outcomes.Failure), Invocation("other-tenant", Noon, Outcomes.Failure, tenant: "acme")));
        var tenant = windows.TenantReport("default", Hour);
        Assert.Null(tenant.Agent);
        Assert.Equal(5, tenant.Invocations);
        Assert.Equal(0.6, tenant.SuccessRate);
        Assert.Equal(["acme", "default"], windows.Tenants());
    }

    [Fact]
    public void Reports_are_cached_until_new_data_or_a_new_bucket()
    {
        observer.Apply(Batch(Invocation("cached", Noon)));
        var first = Report("cached", Hour);
        Assert.Same(first, Report("cached", Hour));
        observer.Apply(Batch(Invocation("cached", Noon)));
        var second = Report("cached", Hour);
        Assert.NotSame(first, second);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.NotSame(second, Report("cached", Hour));
    }

    [Fact]
    public void Late_data_for_completed_buckets_of_either_window_is_counted_after_a_report_was_derived()
    {
        // Reports keep the sums of completed buckets; data arriving late for those buckets must still count.
        clock.Set(Noon.AddMinutes(30));
        observer.Apply(Batch(Invocation("planner", Noon.AddMinutes(30)), Invocation("planner", Noon.AddMinutes(10))));
        Assert.Equal(2, Report("planner", Hour).Invocations);
        Assert.Equal(2, Report("planner", Day).Invocations);

        observer.Apply(Batch(Invocation("planner", Noon.AddMinutes(5), Outcomes.Failure)));
        Assert.Equal(3, Report("planner", Hour).Invocations);
        Assert.Equal(1, Report("planner", Hour).Failures);

        // At 12:30 the 1h window is 11:31-12:30: 11:15 is in the previous 1h window (it feeds the trend) and in the
        // current 24h window. Half of those succeed, two thirds of the current window: improving.
        var before = Report("planner", Hour).Trends;
        observer.Apply(Batch([.. Enumerable.Range(0, 4).Select(i => Invocation("planner", Noon.AddMinutes(-45), i % 2 == 0 ? Outcomes.Failure : Outcomes.Success))]));
        Assert.Equal(3, Report("planner", Hour).Invocations);
        Assert.Equal(7, Report("planner", Day).Invocations);
        Assert.Empty(before);
        Assert.Equal(1, Report("planner", Hour).Trends[TrendMetrics.SuccessRate]);

        // New data in the current bucket after all that, and a clock in a new bucket, still add up.
        observer.Apply(Batch(Invocation("planner", Noon.AddMinutes(30).AddSeconds(20))));
        Assert.Equal(4, Report("planner", Hour).Invocations);
        clock.Set(Noon.AddMinutes(31));
        Assert.Equal(4, Report("planner", Hour).Invocations);
        Assert.Equal(8, Report("planner", Day).Invocations);
    }
}
