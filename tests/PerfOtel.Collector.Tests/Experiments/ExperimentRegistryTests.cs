using Microsoft.Extensions.Options;
using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Exposure.Metrics;

namespace PerfOtel.Collector.Tests.Experiments;

public class ExperimentRegistryTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 15, 12, 0, 0, TimeSpan.Zero);

    private static ExperimentRegistry Registry(int minSamples = 100) =>
        new(Options.Create(new ExperimentOptions { MinSamplesPerVariant = minSamples }));

    private static void Add(ExperimentRegistry registry, string variant, int successes, int invocations,
        string experiment = "prompt-v2", double? costUsd = 0.01, double durationSeconds = 2.0, double? quality = null)
    {
        for (var i = 0; i < invocations; i++)
        {
            var invocation = CostRecords.Invocation(Start.AddSeconds(i), i < successes ? Outcomes.Success : Outcomes.Failure,
                experiment: experiment, variant: variant, durationSeconds: durationSeconds, quality: quality);
            registry.RecordInvocation(invocation, costUsd, accuracy: null);
        }
    }

    [Fact]
    public void TwoVariantsWithEnoughSamplesAndPBelow005HaveAWinner()
    {
        // 250/1000 against 200/1000: z = 2.6774, p = 0.0074 (TwoProportionZTestTests); both >= 100 samples.
        var registry = Registry();
        Add(registry, "a", 200, 1000);
        Add(registry, "b", 250, 1000);

        var report = registry.Report("default", "prompt-v2")!;

        Assert.Equal(ExperimentState.Winner, report.State);
        Assert.Equal("b", report.Leader);
        Assert.Equal("b", report.Winner);
        Assert.Equal(0.0074196, report.PValue!.Value, 6);
        var a = report.Variants.Single(v => v.Variant == "a");
        Assert.Equal(0.20, a.SuccessRate);
        Assert.Equal(2.6774, a.ZAgainstLeader!.Value, 4);
        Assert.Equal(0.0074196, a.PValueAgainstLeader!.Value, 6);
        // The leader's own p-value is the experiment's.
        Assert.Equal(report.PValue, report.Variants.Single(v => v.Variant == "b").PValueAgainstLeader);
    }

    [Fact]
    public void AVariantBelowTheMinimumSampleWithholdsTheWinner()
    {
        // 60/100 against 18/50: p1 = 0.6, p2 = 0.36, pooled 78/150 = 0.52, SE = sqrt(0.52*0.48*(1/100+1/50)) = 0.086533,
        // z = 0.24 / 0.086533 = 2.7735, p = 0.0055: significant, but b has only 50 of the 100 samples required.
        var registry = Registry();
        Add(registry, "a", 60, 100);
        Add(registry, "b", 18, 50);

        var report = registry.Report("default", "prompt-v2")!;

        Assert.Equal(ExperimentState.InsufficientSamples, report.State);
        Assert.Equal("a", report.Leader);
        Assert.Null(report.Winner);
        Assert.Equal(0.0055, report.PValue!.Value, 4);
    }

    [Fact]
    public void WithThreeVariantsTheLeaderMustBeatEveryOther()
    {
        // a 90/100 against b 79/100: pooled 0.845, SE = sqrt(0.845*0.155*0.02) = 0.051181, z = 0.11/0.051181 = 2.1492,
        // p = 0.0316; against c 70/100: pooled 0.8, SE = 0.056569, z = 3.5355, p = 0.00041. Both < 0.05: a wins, and the
        // experiment's p-value is the larger, 0.0316.
        var winning = Registry();
        Add(winning, "a", 90, 100);
        Add(winning, "b", 79, 100);
        Add(winning, "c", 70, 100);

        var won = winning.Report("default", "prompt-v2")!;

        Assert.Equal(ExperimentState.Winner, won.State);
        Assert.Equal("a", won.Winner);
        Assert.Equal(0.0316, won.PValue!.Value, 4);

        // a 90/100 against b 85/100: z = 1.0690, p = 0.2850, not significant, although a beats c: no winner.
        var undecided = Registry();
        Add(undecided, "a", 90, 100);
        Add(undecided, "b", 85, 100);
        Add(undecided, "c", 70, 100);

        var open = undecided.Report("default", "prompt-v2")!;

        Assert.Equal(ExperimentState.NoSignificantDifference, open.State);
        Assert.Equal("a", open.Leader);
        Assert.Null(open.Winner);
        Assert.Equal(0.2850, open.PValue!.Value, 4);
    }

    [Fact]
    public void VariantFiguresAreMeansOverTheirSamples()
    {
        var registry = Registry(minSamples: 1);
        // Two priced invocations of 0.01 and 0.03 USD and one unpriced: cost per invocation (0.01 + 0.03) / 2 = 0.02.
        var first = CostRecords.Invocation(Start, experiment: "e", variant: "a", quality: 0.5, durationSeconds: 1.0);
        var second = CostRecords.Invocation(Start, experiment: "e", variant: "a", quality: 0.9, durationSeconds: 1.0);
        var third = CostRecords.Invocation(Start, Outcomes.Failure, experiment: "e", variant: "a", durationSeconds: 10.0);
        registry.RecordInvocation(first, 0.01, accuracy: 1.0);
        registry.RecordInvocation(second, 0.03, accuracy: null);
        registry.RecordInvocation(third, null, accuracy: null);
        registry.RecordAccuracy("default", "e", "a", 0.5);

        var a = registry.Report("default", "e")!.Variants.Single();

        Assert.Equal(3, a.Invocations);
        Assert.Equal(2.0 / 3, a.SuccessRate!.Value, 12);
        Assert.Equal(0.02, a.CostPerInvocationUsd!.Value, 12);
        Assert.Equal(2, a.PricedInvocations);
        Assert.Equal(1, a.UnpricedInvocations);
        Assert.Equal(0.7, a.MeanQuality!.Value, 12);      // (0.5 + 0.9) / 2; the third has no quality
        Assert.Equal(0.75, a.MeanAccuracy!.Value, 12);    // (1.0 + 0.5) / 2
        // Nearest rank of p95 among 1 s, 1 s, 10 s is the third: 10 s, reported within the histogram's 4.9 %.
        Assert.InRange(a.LatencyP95Seconds!.Value, 10 / 1.0489, 10 * 1.0489);
        Assert.Equal(ExperimentState.InsufficientSamples, registry.Report("default", "e")!.State);
    }

    [Fact]
    public void InvocationsWithoutExperimentOrBeyondTheCapsAreNotCounted()
    {
        var registry = new ExperimentRegistry(Options.Create(new ExperimentOptions
        {
            MaxTenants = 1,
            MaxExperimentsPerTenant = 1,
            MaxVariantsPerExperiment = 2,
        }));
        registry.RecordInvocation(CostRecords.Invocation(Start), 0.01, null);
        registry.RecordInvocation(CostRecords.Invocation(Start, experiment: "e", variant: "a"), 0.01, null);
        registry.RecordInvocation(CostRecords.Invocation(Start, experiment: "e", variant: "b"), 0.01, null);
        registry.RecordInvocation(CostRecords.Invocation(Start, experiment: "e", variant: "c"), 0.01, null);
        registry.RecordInvocation(CostRecords.Invocation(Start, experiment: "other", variant: "a"), 0.01, null);
        registry.RecordInvocation(CostRecords.Invocation(Start, tenant: "acme", experiment: "e", variant: "a"), 0.01, null);

        Assert.Equal(["a", "b"], registry.Report("default", "e")!.Variants.Select(v => v.Variant));
        Assert.Null(registry.Report("default", "other"));
        Assert.Equal(2, registry.DroppedInvocations("default"));
        Assert.Null(registry.Report("acme", "e"));
        Assert.Equal(1, registry.DroppedInvocations(CostKeys.Other)); // beyond MaxTenants = 1
        Assert.Equal([CostKeys.Other, "default"], registry.Tenants());
    }
}
