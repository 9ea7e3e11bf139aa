using PerfOtel.Collector.Derived.Experiments.Statistics;
using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Experiments;

public class ExperimentMetricsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 16, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task GaugesPerVariantAreTheMergeableSumsTheDefinitionAndTheVerdict()
    {
        await using var harness = new CostHarness(Now, new Dictionary<string, string?>
        {
            ["Experiments:Definitions:default:model-swap:Variants:control"] = "1",
            ["Experiments:Definitions:default:model-swap:Variants:cheaper"] = "1",
            ["Experiments:Definitions:default:model-swap:Control"] = "control",
            ["Experiments:Definitions:default:model-swap:Guardrails:latency"] = "0.1",
        });
        await harness.StartAsync();
        // The worked example of docs/collector/experiments.md: control 500/1000, cheaper 580/1000, 50/50: winner cheaper.
        // Latencies 1 s and 3 s alternate in both (Σx = 2000, Σx² = 5000 per variant); cost 0.01 USD each.
        var batch = CostRecords.Batch();
        for (var i = 0; i < 1000; i++)
        {
            var duration = i % 2 == 0 ? 1.0 : 3.0;
            batch.Invocations.Add(CostRecords.Invocation(Now, i < 500 ? Outcomes.Success : Outcomes.Failure,
                experiment: "model-swap", variant: "control", durationSeconds: duration));
            batch.Invocations.Add(CostRecords.Invocation(Now, i < 580 ? Outcomes.Success : Outcomes.Failure,
                experiment: "model-swap", variant: "cheaper", durationSeconds: duration));
        }
        harness.Commit(batch);

        var all = harness.Metrics.Collect();
        IEnumerable<ExportedPoint> Points(MetricDefinition definition) => all.Single(m => m.Name == definition.Name).Points
            .Where(p => Equals(p.Tags["experiment"], "model-swap") && Equals(p.Tags["tenant"], "default"));
        double Value(MetricDefinition definition, params (string Key, string Value)[] labels) =>
            Points(definition).Single(p => labels.All(l => Equals(p.Tags[l.Key], l.Value))).Value;

        Assert.Equal(1000, Value(CostMetricCatalog.ExperimentInvocations, ("variant", "control")));
        Assert.Equal(580, Value(CostMetricCatalog.ExperimentSuccesses, ("variant", "cheaper")));
        Assert.Equal(1000, Value(CostMetricCatalog.ExperimentSamples, ("variant", "cheaper"), ("metric", "latency")));
        Assert.Equal(2000, Value(CostMetricCatalog.ExperimentSum, ("variant", "cheaper"), ("metric", "latency")), 9);
        Assert.Equal(5000, Value(CostMetricCatalog.ExperimentSumOfSquares, ("variant", "cheaper"), ("metric", "latency")), 9);
        // No quality or accuracy was reported: those series are absent, not 0.
        Assert.DoesNotContain(Points(CostMetricCatalog.ExperimentSamples), p => Equals(p.Tags["metric"], "quality") || Equals(p.Tags["metric"], "accuracy"));

        Assert.Equal(0.5, Value(CostMetricCatalog.ExperimentIntendedWeight, ("variant", "cheaper")));
        Assert.Equal(1, Value(CostMetricCatalog.ExperimentControl, ("variant", "control")));
        Assert.DoesNotContain(Points(CostMetricCatalog.ExperimentControl), p => Equals(p.Tags["variant"], "cheaper"));
        Assert.Equal(100, Value(CostMetricCatalog.ExperimentMinSamples));
        Assert.Equal(1.959964, Value(CostMetricCatalog.ExperimentIntervalZ), 6);
        // One degree of freedom: the chi-square whose upper tail is 0.001 is 10.828 (statistical tables).
        Assert.Equal(10.828, Value(CostMetricCatalog.ExperimentSrmCriticalChiSquare), 3);
        Assert.Equal(0.1, Value(CostMetricCatalog.ExperimentGuardrailTolerance, ("metric", "latency")));

        Assert.Equal(1, Value(CostMetricCatalog.ExperimentVerdict, ("verdict", "winner")));
        Assert.Equal(0, Value(CostMetricCatalog.ExperimentVerdict, ("verdict", "running")));
        Assert.Equal(5, Points(CostMetricCatalog.ExperimentVerdict).Count());
        Assert.Equal(1, Value(CostMetricCatalog.ExperimentWinner, ("variant", "cheaper")));
        Assert.Equal(0, Value(CostMetricCatalog.ExperimentWinner, ("variant", "control")));
    }

    [Theory]
    // Upper 0.001 points of the chi-square distribution (statistical tables).
    [InlineData(1, 10.828)]
    [InlineData(2, 13.816)]
    [InlineData(3, 16.266)]
    [InlineData(4, 18.467)]
    public void TheCriticalChiSquareHasTheSrmThresholdAsItsUpperTail(int degreesOfFreedom, double expected)
    {
        var critical = ChiSquareDistribution.CriticalValue(degreesOfFreedom, 0.001);

        Assert.Equal(expected, critical, 3);
        Assert.Equal(0.001, ChiSquareDistribution.UpperTail(critical, degreesOfFreedom), 9);
    }
}
