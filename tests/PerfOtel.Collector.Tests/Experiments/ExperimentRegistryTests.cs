using Microsoft.Extensions.Options;
using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Derived.Experiments.Statistics;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;

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
    public void VariantSumsAreTheMergeableSumsOfTheirSamples()
    {
        var registry = Registry(minSamples: 1);
        // Two priced invocations of 0.01 and 0.03 USD and one unpriced: the cost sums hold only the priced two.
        var first = CostRecords.Invocation(Start, experiment: "e", variant: "a", quality: 0.5, durationSeconds: 1.0);
        var second = CostRecords.Invocation(Start, experiment: "e", variant: "a", quality: 0.9, durationSeconds: 1.0);
        var third = CostRecords.Invocation(Start, Outcomes.Failure, experiment: "e", variant: "a", durationSeconds: 10.0);
        registry.RecordInvocation(first, 0.01, accuracy: 1.0);
        registry.RecordInvocation(second, 0.03, accuracy: null);
        registry.RecordInvocation(third, null, accuracy: null);
        registry.RecordAccuracy("default", "e", "a", 0.5);

        var a = registry.Report("default", "e")!.Variants.Single();

        Assert.Equal(3, a.Invocations);
        Assert.Equal(2, a.Successes);
        AssertSums(2, 0.04, 0.001, a.Cost);                            // 0.01² + 0.03²
        AssertSums(2, 1.4, 1.06, a.Quality);                           // 0.5² + 0.9²; the third has no quality
        AssertSums(2, 1.5, 1.25, a.Accuracy);                          // 1.0 with the invocation, 0.5 afterwards
        AssertSums(3, 12, 102, a.Latency);                             // 1 + 1 + 10, 1 + 1 + 100
    }

    private static void AssertSums(long count, double sum, double sumOfSquares, MeanSums actual)
    {
        Assert.Equal(count, actual.Count);
        Assert.Equal(sum, actual.Sum, 12);
        Assert.Equal(sumOfSquares, actual.SumOfSquares, 12);
    }

    [Fact]
    public void TheP95OfAVariantComesWithItsDistributionFreeInterval()
    {
        // 100 invocations of 1, 2, ..., 100 s. Nearest-rank p95 = the 95th value, 95 s; ranks 90 and 100 bracket it
        // (ExperimentStatisticsTests): [90 s, 100 s]. Each is read off the log histogram, within its 4.9 %.
        var registry = Registry(minSamples: 1);
        for (var i = 1; i <= 100; i++)
        {
            registry.RecordInvocation(CostRecords.Invocation(Start, experiment: "e", variant: "a", durationSeconds: i), 0.01, null);
        }

        var p95 = registry.Report("default", "e")!.Analysis!.Variants.Single().LatencyP95!.Value;

        Assert.InRange(p95.Estimate, 95 / 1.0489, 95 * 1.0489);
        Assert.InRange(p95.Lower, 90 / 1.0489, 90 * 1.0489);
        Assert.InRange(p95.Upper, 100 / 1.0489, 100 * 1.0489);
        Assert.True(p95.Lower <= p95.Estimate && p95.Estimate <= p95.Upper);
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
