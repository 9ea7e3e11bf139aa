using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Derived.Models;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Models;

public class ModelComparisonTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 16, 12, 0, 0, TimeSpan.Zero);

    private static ComparisonWindow Window(CostHarness harness, string name) => harness.Models.Window(name)!;

    /// <summary>Commits one invocation served by one call of <paramref name="model"/>, optionally with joined feedback.</summary>
    private static AgentInvocation Serve(CostHarness harness, string model, double? costUsd, bool success,
        double? accuracy = null, DateTimeOffset? at = null, double callSeconds = 1.0, string agent = "planner", string? taskType = null)
    {
        var start = at ?? Now.AddMinutes(-10);
        var invocation = CostRecords.Invocation(start, success ? Outcomes.Success : Outcomes.Failure, agent: agent) with { TaskType = taskType };
        var call = CostRecords.Call(start.AddMilliseconds(10), costUsd, model, invocationSpanId: invocation.SpanId,
            durationSeconds: callSeconds);
        var batch = CostRecords.Batch(call, invocation);
        if (accuracy is { } a)
        {
            batch.JoinedFeedback.Add(new FeedbackJoin(invocation, CostRecords.Feedback(invocation, a, Now)));
        }
        harness.Commit(batch);
        return invocation;
    }

    [Fact]
    public async Task AnInvocationIsServedByTheModelOfItsLastCall_EvenWhenTheCallsCameInAnEarlierBatch()
    {
        await using var harness = new CostHarness(Now);
        await harness.StartAsync();
        var invocation = CostRecords.Invocation(Now.AddMinutes(-5));
        // The router call (0.001 USD) and the answer (0.02 USD) are exported before the invocation span ends.
        harness.Commit(
            CostRecords.Call(Now.AddMinutes(-5).AddSeconds(1), 0.001, "gpt-4o-mini", invocationSpanId: invocation.SpanId),
            CostRecords.Call(Now.AddMinutes(-5).AddSeconds(2), 0.02, "gpt-4o", invocationSpanId: invocation.SpanId));
        harness.Commit(invocation);

        var models = harness.Models.Models("default", Window(harness, "1h"));

        var big = models.Single(m => m.Model == "gpt-4o");
        var small = models.Single(m => m.Model == "gpt-4o-mini");
        Assert.Equal((1, 1), (big.Calls, small.Calls));
        Assert.Equal(1, big.Invocations);
        Assert.Equal(0, small.Invocations);
        // The invocation's cost is all of its calls: 0.001 + 0.02 = 0.021 USD.
        Assert.Equal(0.021, big.CostPerInvocationUsd!.Value, 12);
        Assert.Equal(0.02, big.CostPerCallUsd!.Value, 12);
        Assert.Equal(1.0, big.SuccessRate);
    }

    [Fact]
    public async Task CallFiguresAndWindowsExpire()
    {
        await using var harness = new CostHarness(Now);
        await harness.StartAsync();
        // 20 calls: 19 of 1 s and one of 8 s, of which 2 failed. Nearest-rank p95 is the 19th of 20 sorted = 1 s.
        for (var i = 0; i < 20; i++)
        {
            harness.Commit(CostRecords.Call(Now.AddMinutes(-30), 0.01, "claude-haiku", "anthropic",
                durationSeconds: i == 0 ? 8.0 : 1.0, errorType: i < 2 ? "timeout" : null));
        }
        harness.Commit(CostRecords.Call(Now.AddHours(-3), null, "claude-haiku", "anthropic", unpricedTokens: 150));

        var hour = harness.Models.Models("default", Window(harness, "1h")).Single();
        Assert.Equal(("anthropic", "claude-haiku", "1h"), (hour.Provider, hour.Model, hour.Window));
        Assert.Equal(20, hour.Calls);
        Assert.Equal(0.1, hour.ErrorRate!.Value, 12);
        Assert.InRange(hour.LatencyP95Seconds!.Value, 1 / 1.0489, 1.0489);
        Assert.Equal(0.2, hour.CostUsd, 12);
        Assert.Equal(3000, hour.Tokens); // 20 x (100 input + 50 output)
        Assert.Equal(0, hour.UnpricedTokens);

        var day = harness.Models.Models("default", Window(harness, "24h")).Single();
        Assert.Equal(21, day.Calls);
        Assert.Equal(150, day.UnpricedTokens); // the unpriced call is surfaced ...
        Assert.Equal(0.2, day.CostUsd, 12);    // ... and adds nothing to the cost
        Assert.Equal(0.01, day.CostPerCallUsd!.Value, 12);

        harness.Clock.Advance(TimeSpan.FromMinutes(31));
        Assert.Empty(harness.Models.Models("default", Window(harness, "1h")));
        Assert.Equal(21, harness.Models.Models("default", Window(harness, "24h")).Single().Calls);
    }

    [Fact]
    public async Task ACheaperModelDoingTheSameAgentsSameTaskAsWellIsRecommended_WithSampleSizesAndIntervals()
    {
        await using var harness = new CostHarness(Now);
        await harness.StartAsync();
        // Agent planner, task type itinerary:
        // gpt-4o:        400 invocations, 360 succeed (0.90), 0.10 USD each, accuracy 0.90 over 20 samples.
        // gpt-4o-mini:   400 invocations, 364 succeed (0.91), 0.02 USD each, accuracy 0.89 over 20: 80 % cheaper.
        // gpt-3.5-turbo: 400 invocations, 320 succeed (0.80): cheapest, but its interval is far below the margin.
        for (var i = 0; i < 400; i++)
        {
            Serve(harness, "gpt-4o", 0.10, success: i < 360, accuracy: i < 20 ? 0.90 : null, taskType: "itinerary");
            Serve(harness, "gpt-4o-mini", 0.02, success: i < 364, accuracy: i < 20 ? 0.89 : null, taskType: "itinerary");
            Serve(harness, "gpt-3.5-turbo", 0.01, success: i < 320, accuracy: i < 20 ? 0.90 : null, taskType: "itinerary");
        }

        var recommendation = Assert.Single(harness.Get<IModelRecommendations>().GetRecommendations("default"));

        Assert.Equal(("planner", "itinerary", "openai", "gpt-4o", "openai", "gpt-4o-mini"),
            (recommendation.Agent, recommendation.TaskType, recommendation.CurrentProvider, recommendation.CurrentModel,
             recommendation.RecommendedProvider, recommendation.RecommendedModel));
        // The longest window: the most evidence.
        Assert.Equal("7d", recommendation.Window);
        Assert.Equal((400, 400), (recommendation.CurrentInvocations, recommendation.RecommendedInvocations));
        Assert.Equal(0.80, recommendation.SavingsRatio, 12);       // 1 - 0.02 / 0.10
        // Wilson, z = 1.959964: 360/400 -> [0.8667, 0.9257]; 364/400 -> [0.8779, 0.9343] (hand-worked in
        // docs/collector/cost-and-budgets.md); Newcombe: 0.01 - sqrt(0.0321^2 + 0.0257^2) = -0.0311,
        // 0.01 + sqrt(0.0243^2 + 0.0333^2) = 0.0512. -0.0311 is above the -0.05 margin: recommended.
        Assert.Equal(0.90, recommendation.CurrentSuccessRate.Estimate, 12);
        Assert.Equal(0.8667, recommendation.CurrentSuccessRate.Lower, 4);
        Assert.Equal(0.9257, recommendation.CurrentSuccessRate.Upper, 4);
        Assert.Equal(0.91, recommendation.RecommendedSuccessRate.Estimate, 12);
        Assert.Equal(0.8779, recommendation.RecommendedSuccessRate.Lower, 4);
        Assert.Equal(0.9343, recommendation.RecommendedSuccessRate.Upper, 4);
        Assert.Equal(0.01, recommendation.SuccessRateDifference.Estimate, 12);
        Assert.Equal(-0.0311, recommendation.SuccessRateDifference.Lower, 4);
        Assert.Equal(0.0512, recommendation.SuccessRateDifference.Upper, 4);
        Assert.Equal(0.05, recommendation.NonInferiorityMargin);
        Assert.Equal(0.89, recommendation.RecommendedAccuracy!.Value, 12);
        Assert.StartsWith("For agent planner on task type itinerary, openai/gpt-4o-mini costs 0.02 USD per invocation against 0.1 USD for openai/gpt-4o (80% less) over 7d, with a success rate of 91% [87.8, 93.4] over 400 invocations against 90% [86.7, 92.6] over 400; difference +1 points [-3.1, 5.1]",
            recommendation.Reason);
    }

    [Fact]
    public async Task ModelsOfDifferentAgentsOrTaskTypesAreNeverCompared()
    {
        await using var harness = new CostHarness(Now);
        await harness.StartAsync();
        // The measured counterexample: agent triage uses gpt-4o-mini at 96.7 % on task type faq (29 of 30), agent analyst
        // uses gpt-4o at 56.7 % on task type audit (17 of 30). Over all agents the cheaper model looks far better; it did
        // other, easier work. Likewise agent X uses gpt-4o at 96.7 % on task T, agent Y gpt-4o-mini at 56.7 % on task U,
        // and one agent's two models on two task types: no recommendation across them.
        for (var i = 0; i < 30; i++)
        {
            Serve(harness, "gpt-4o-mini", 0.01, success: i < 29, agent: "triage", taskType: "faq");
            Serve(harness, "gpt-4o", 0.10, success: i < 17, agent: "analyst", taskType: "audit");
            Serve(harness, "gpt-4o", 0.10, success: i < 29, agent: "x", taskType: "t");
            Serve(harness, "gpt-4o-mini", 0.01, success: i < 17, agent: "y", taskType: "u");
            Serve(harness, "gpt-4o", 0.10, success: true, agent: "z", taskType: "hard");
            Serve(harness, "gpt-4o-mini", 0.01, success: true, agent: "z", taskType: "easy");
        }
        // Over the tenant as a whole both models succeed 76 times in 90 and gpt-4o-mini costs a tenth: the old,
        // tenant-wide rule recommended it in place of gpt-4o.
        var mini = harness.Models.Models("default", Window(harness, "24h")).Single(m => m.Model == "gpt-4o-mini");
        Assert.Equal(90, mini.Invocations);

        Assert.Empty(harness.Get<IModelRecommendations>().GetRecommendations("default"));
        Assert.Equal(6, harness.Models.Cohorts("default").Count);
    }

    [Fact]
    public async Task TooFewInvocationsForTheIntervalOrLowerAccuracyMeanNoRecommendation()
    {
        await using var harness = new CostHarness(Now);
        await harness.StartAsync();
        // small: 30 invocations each at 0.90 and 0.91 (the rates above): the Newcombe lower limit is -0.127, far
        // beyond the margin, so the same point estimates are not enough. accurate: 400 each at the same success, but
        // the cheaper model's accuracy is 0.85 against 0.90 (0.05 lower, beyond 0.02).
        for (var i = 0; i < 400; i++)
        {
            if (i < 30)
            {
                Serve(harness, "gpt-4o", 0.10, success: i < 27, agent: "small");
                Serve(harness, "gpt-4o-mini", 0.02, success: i < 28, agent: "small");
            }
            Serve(harness, "gpt-4o", 0.10, success: i < 360, accuracy: i < 20 ? 0.90 : null, agent: "accurate");
            Serve(harness, "gpt-4o-mini", 0.02, success: i < 360, accuracy: i < 20 ? 0.85 : null, agent: "accurate");
        }

        Assert.Empty(harness.Get<IModelRecommendations>().GetRecommendations("default"));
    }

    [Fact]
    public void NonInferiorityRuleBoundaries()
    {
        var options = new ModelComparisonOptions();
        CohortStats Cohort(double cost, long successes, long invocations, double? accuracy = null, long accuracySamples = 0,
            string agent = "a", string taskType = "t") =>
            new(agent, taskType, "openai", "m", invocations, successes, invocations, cost, accuracy, accuracySamples);
        var current = Cohort(1.0, 900, 1000);

        Assert.True(ModelRecommendations.IsCheaperAndNotWorse(Cohort(0.90, 900, 1000), current, options));   // exactly 10 % cheaper, same rate
        Assert.False(ModelRecommendations.IsCheaperAndNotWorse(Cohort(0.91, 900, 1000), current, options));  // only 9 % cheaper
        Assert.True(ModelRecommendations.IsCheaperAndNotWorse(Cohort(0.5, 880, 1000), current, options));   // 0.02 lower: interval down to -0.0476, within the margin
        Assert.False(ModelRecommendations.IsCheaperAndNotWorse(Cohort(0.5, 870, 1000), current, options));  // 0.03 lower: interval down to -0.058, beyond it
        Assert.False(ModelRecommendations.IsCheaperAndNotWorse(Cohort(0.5, 900, 1000, agent: "b"), current, options)); // another agent
        Assert.False(ModelRecommendations.IsCheaperAndNotWorse(Cohort(0.5, 900, 1000, taskType: "u"), current, options)); // another task type
        Assert.False(ModelRecommendations.IsCheaperAndNotWorse(Cohort(0.5, 29, 29), Cohort(1.0, 29, 29), options)); // below MinInvocations
        Assert.False(ModelRecommendations.IsCheaperAndNotWorse(Cohort(0.5, 900, 1000, 0.87, 10), Cohort(1.0, 900, 1000, 0.90, 10), options)); // accuracy 0.03 lower
        Assert.True(ModelRecommendations.IsCheaperAndNotWorse(Cohort(0.5, 900, 1000, 0.89, 10), Cohort(1.0, 900, 1000, 0.90, 10), options));
    }

    [Fact]
    public async Task ModelGaugesCarryTenantProviderModelAndWindow()
    {
        await using var harness = new CostHarness(Now);
        await harness.StartAsync();
        // 4 invocations of gpt-4o at 0.05 USD, 3 succeed; accuracy samples 1.0 and 0.5 (one posted later).
        AgentInvocation? last = null;
        for (var i = 0; i < 4; i++)
        {
            last = Serve(harness, "gpt-4o", 0.05, success: i < 3, accuracy: i == 0 ? 1.0 : null);
        }
        harness.FeedbackJoined(new FeedbackJoin(last!, CostRecords.Feedback(last!, 0.5, Now)));

        var all = harness.Metrics.Collect();
        double Value(MetricDefinition definition, string window) => all.Single(m => m.Name == definition.Name).Points
            .Single(p => Equals(p.Tags["window"], window) && Equals(p.Tags["model"], "gpt-4o") &&
                         Equals(p.Tags["provider"], "openai") && Equals(p.Tags["tenant"], "default")).Value;

        foreach (var window in new[] { "1h", "24h" })
        {
            Assert.Equal(4, Value(CostMetricCatalog.ModelCalls, window));
            Assert.Equal(4, Value(CostMetricCatalog.ModelInvocations, window));
            Assert.Equal(0.75, Value(CostMetricCatalog.ModelSuccessRatio, window), 12);
            Assert.Equal(0.05, Value(CostMetricCatalog.ModelCostPerInvocation, window), 12);
            Assert.Equal(0.2, Value(CostMetricCatalog.ModelCostUsd, window), 12);
            Assert.Equal(0.75, Value(CostMetricCatalog.ModelAccuracy, window), 12); // (1.0 + 0.5) / 2
            Assert.Equal(0, Value(CostMetricCatalog.ModelErrorRatio, window));
        }
        // No unpriced tokens: that series is absent rather than 0.
        Assert.DoesNotContain(all, m => m.Name == CostMetricCatalog.ModelUnpricedTokens.Name && m.Points.Count > 0);
    }

    [Fact]
    public async Task TheWindowsAreTheAnalyticsWindows()
    {
        await using var harness = new CostHarness(Now, new Dictionary<string, string?>
        {
            ["Analytics:Windows:0:Name"] = "5m",
            ["Analytics:Windows:0:Duration"] = "00:05:00",
            ["Analytics:Windows:0:BucketWidth"] = "00:01:00",
        });
        await harness.StartAsync();
        harness.Commit(CostRecords.Call(Now.AddMinutes(-2), 0.01), CostRecords.Call(Now.AddMinutes(-7), 0.01));

        Assert.Equal(["5m"], harness.Models.Options.Windows.Select(w => w.Name));
        Assert.Equal("5m", harness.Models.Options.EffectiveRecommendationWindow.Name);
        Assert.Equal(1, harness.Models.Models("default", Window(harness, "5m")).Single().Calls); // -7 min is outside
    }

    [Fact]
    public async Task TenantsAndModelsBeyondTheCapsArePooled()
    {
        await using var harness = new CostHarness(Now, new Dictionary<string, string?>
        {
            ["Models:MaxTenants"] = "1",
            ["Models:MaxModelsPerTenant"] = "1",
        });
        await harness.StartAsync();
        harness.Commit(
            CostRecords.Call(Now, 0.01, "gpt-4o"),
            CostRecords.Call(Now, 0.02, "gpt-4o-mini"),
            CostRecords.Call(Now, 0.04, "gpt-4o", tenant: "acme"));
        var hour = Window(harness, "1h");

        Assert.Equal([CostKeys.Other, "default"], harness.Models.Tenants());
        Assert.Equal([("gpt-4o", 0.01), (CostKeys.Other, 0.02)],
            harness.Models.Models("default", hour).OrderByDescending(m => m.Model).Select(m => (m.Model, m.CostUsd)));
        Assert.Equal(0.04, harness.Models.Models(CostKeys.Other, hour).Single().CostUsd, 12);
    }
}
