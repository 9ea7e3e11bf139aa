using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Analytics.Records;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Analytics;

/// <summary>
/// Principle 4 in arithmetic: the window sums of two replicas, added label set by label set (what PromQL
/// <c>sum by (tenant, agent, window, bin|outcome)</c> does), reproduce the derived gauges of one collector that received
/// all the data, by the recording expressions documented in the README.
/// </summary>
public class MergeableSumTests
{
    [Fact]
    public void Sums_over_two_replicas_reproduce_one_collectors_gauges()
    {
        var clock = new ManualTimeProvider(Noon.AddSeconds(30));
        using var one = new AnalyticsInstance(clock);
        using var left = new AnalyticsInstance(clock);
        using var right = new AnalyticsInstance(clock);
        var random = new Random(11);
        for (var i = 0; i < 400; i++)
        {
            var outcome = random.NextDouble() switch { < 0.7 => Outcomes.Success, < 0.9 => Outcomes.Failure, _ => Outcomes.Partial };
            var invocation = Invocation(i % 3 == 0 ? "a" : "b", Noon, outcome, duration: 0.5, confidence: random.NextDouble(),
                quality: i % 5 == 0 ? null : random.NextDouble());
            var batch = Batch(invocation);
            batch.ProviderCalls.Add(Call(invocation, random.Next(100, 900), random.Next(10, 300), random.NextDouble() / 10));
            batch.Evaluations.Add(Evaluation(invocation, "accuracy", random.NextDouble()));
            one.Observer.Apply(batch);
            (i % 2 == 0 ? left : right).Observer.Apply(batch);
        }

        var single = one.Scrape();
        var summed = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var replica in new[] { left.Scrape(), right.Scrape() })
        {
            foreach (var (key, value) in replica)
            {
                summed[key] = summed.GetValueOrDefault(key) + value;
            }
        }

        foreach (var agent in new[] { "a", "b" })
        {
            foreach (var window in new[] { "1h", "24h" })
            {
                double Sum(string name, string? extra = null) =>
                    summed.GetValueOrDefault($"{name}{{agent={agent},{(extra is null ? "" : extra + ",")}tenant=default,window={window}}}");
                double Gauge(string name) => single[$"{name}{{agent={agent},tenant=default,window={window}}}"];

                var invocations = Sum("perfotel.agent.window.invocations", "outcome=success") +
                                  Sum("perfotel.agent.window.invocations", "outcome=failure") +
                                  Sum("perfotel.agent.window.invocations", "outcome=partial");
                Assert.Equal(Gauge("perfotel.agent.success_ratio"), Sum("perfotel.agent.window.invocations", "outcome=success") / invocations, 12);
                Assert.Equal(Gauge("perfotel.agent.error_ratio"), Sum("perfotel.agent.window.invocations", "outcome=failure") / invocations, 12);
                Assert.Equal(Gauge("perfotel.agent.accuracy"), Sum("perfotel.agent.accuracy.sum") / Sum("perfotel.agent.accuracy.samples"), 12);
                Assert.Equal(Gauge("perfotel.agent.quality"), Sum("perfotel.agent.quality.sum") / Sum("perfotel.agent.quality.samples"), 12);

                double samples = 0, gapSum = 0, maxGap = 0, confidence = 0, successes = 0;
                for (var bin = 0; bin < 10; bin++)
                {
                    var n = Sum("perfotel.agent.calibration.bin.samples", $"bin={bin}");
                    var s = Sum("perfotel.agent.calibration.bin.successes", $"bin={bin}");
                    var c = Sum("perfotel.agent.calibration.bin.confidence_sum", $"bin={bin}");
                    samples += n;
                    successes += s;
                    confidence += c;
                    gapSum += Math.Abs(s - c);
                    if (n > 0)
                    {
                        maxGap = Math.Max(maxGap, Math.Abs(s - c) / n);
                    }
                }
                Assert.Equal(Gauge("perfotel.agent.calibration_error"), gapSum / samples, 12);
                Assert.Equal(Gauge("perfotel.agent.calibration_max_error"), maxGap, 12);
                Assert.Equal(Gauge("perfotel.agent.brier_score"), Sum("perfotel.agent.brier.squared_error_sum") / samples, 12);
                Assert.Equal(Gauge("perfotel.agent.overconfidence"), (confidence - successes) / samples, 12);
            }
        }
    }
}

public class ReplicaIsolationTests
{
    [Fact]
    public void Each_collector_exports_only_its_own_windows()
    {
        var clock = new ManualTimeProvider(Noon.AddSeconds(30));
        using var left = new AnalyticsInstance(clock);
        using var right = new AnalyticsInstance(clock);
        left.Observer.Apply(Batch(Invocation("a", Noon), Invocation("a", Noon)));
        right.Observer.Apply(Batch(Invocation("a", Noon, Outcomes.Failure)));
        Assert.Equal(2, left.Scrape()["perfotel.agent.window.invocations{agent=a,outcome=success,tenant=default,window=1h}"]);
        Assert.Equal(1, right.Scrape()["perfotel.agent.window.invocations{agent=a,outcome=failure,tenant=default,window=1h}"]);
        Assert.Equal(0, right.Scrape()["perfotel.agent.window.invocations{agent=a,outcome=success,tenant=default,window=1h}"]);
    }
}
