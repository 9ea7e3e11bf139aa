using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Exposure.Metrics;

namespace PerfOtel.Collector.Tests.Experiments;

[Collection(CostMeterCollection.Name)]
public class ExperimentMetricsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 16, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task GaugesPerVariantIncludeThePValueAndTheWinner()
    {
        await using var harness = new CostHarness(Now);
        await harness.StartAsync();
        // 200/1000 for a and 250/1000 for b: p = 0.0074, b wins (ExperimentRegistryTests).
        var batch = CostRecords.Batch();
        for (var i = 0; i < 1000; i++)
        {
            batch.Invocations.Add(CostRecords.Invocation(Now, i < 200 ? Outcomes.Success : Outcomes.Failure, experiment: "prompt-v2", variant: "a"));
            batch.Invocations.Add(CostRecords.Invocation(Now, i < 250 ? Outcomes.Success : Outcomes.Failure, experiment: "prompt-v2", variant: "b"));
        }
        harness.Commit(batch);

        var all = harness.Metrics.Collect();
        double Value(CostMetricDefinition definition, string variant) => all.Single(m => m.Name == definition.Name).Points
            .Single(p => Equals(p.Tags["variant"], variant) && Equals(p.Tags["experiment"], "prompt-v2") &&
                         Equals(p.Tags["tenant"], "default")).Value;

        Assert.Equal(1000, Value(CostMetricCatalog.ExperimentInvocations, "a"));
        Assert.Equal(250, Value(CostMetricCatalog.ExperimentSuccesses, "b"));
        Assert.Equal(0.25, Value(CostMetricCatalog.ExperimentSuccessRatio, "b"), 12);
        Assert.Equal(0.0074196, Value(CostMetricCatalog.ExperimentPValue, "a"), 6);
        Assert.Equal(0.0074196, Value(CostMetricCatalog.ExperimentPValue, "b"), 6);
        Assert.Equal(0, Value(CostMetricCatalog.ExperimentWinner, "a"));
        Assert.Equal(1, Value(CostMetricCatalog.ExperimentWinner, "b"));
        // No quality, accuracy or cost was reported: those series are absent, not 0.
        Assert.DoesNotContain(all, m => m.Name == CostMetricCatalog.ExperimentAccuracy.Name && m.Points.Count > 0);
        Assert.DoesNotContain(all, m => m.Name == CostMetricCatalog.ExperimentCostPerInvocation.Name && m.Points.Count > 0);
    }
}
