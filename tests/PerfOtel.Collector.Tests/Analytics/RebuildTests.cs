using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Analytics.Records;
using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Analytics;

public class RebuildTests
{
    [Fact]
    public async Task Windows_rebuilt_from_the_store_after_a_restart_equal_the_live_windows()
    {
        var clock = new ManualTimeProvider(Noon.AddHours(-30));
        var store = new Cost.InMemoryExecutionStore();
        var live = Analytics.Windows(clock);
        var observer = new AnalyticsDerivation(live);
        var random = new Random(5);
        var joins = new List<FeedbackJoin>();

        // 30 hours of traffic, one batch every 10 minutes, for two agents of two tenants.
        for (var step = 0; step < 180; step++)
        {
            var at = Noon.AddHours(-30).AddMinutes(10 * step);
            clock.Set(at.AddSeconds(20));
            var batch = new IngestBatch();
            foreach (var (tenant, agent) in new[] { ("default", "planner"), ("acme", "coder") })
            {
                var outcome = random.NextDouble() switch { < 0.75 => Outcomes.Success, < 0.9 => Outcomes.Failure, _ => Outcomes.Partial };
                var invocation = Invocation(agent, at, outcome, duration: 0.2 + random.NextDouble() * 8,
                    confidence: Math.Round(random.NextDouble(), 2), taskType: step % 3 == 0 ? "plan" : "code", tenant: tenant);
                batch.Invocations.Add(invocation);
                batch.ProviderCalls.Add(Call(invocation, 100 + step, 50, 0.001 * step));
                if (step % 4 == 0)
                {
                    batch.Evaluations.Add(Evaluation(invocation, "accuracy", random.NextDouble()));
                }
                if (step % 5 == 0)
                {
                    joins.Add(new FeedbackJoin(invocation, FeedbackOn(invocation, success: random.NextDouble() < 0.5)));
                }
            }
            await store.WriteAsync(batch, CancellationToken.None);
            observer.Apply(batch);
        }
        foreach (var join in joins)
        {
            await store.AddFeedbackAsync(join.Feedback, CancellationToken.None);
            observer.Apply(Joined(join));
        }

        // Restart: fresh windows, rebuilt from the store alone.
        var rebuilt = Analytics.Windows(clock);
        using var services = new ServiceCollection().AddSingleton<IExecutionStore>(store).BuildServiceProvider();
        await new DerivationReplay(services, Pipeline(rebuilt), NullLogger<DerivationReplay>.Instance)
            .StartAsync(CancellationToken.None);

        foreach (var (tenant, agent) in new[] { ("default", "planner"), ("acme", "coder") })
        {
            for (var window = 0; window < live.Windows.Count; window++)
            {
                var expected = live.Report(live.Find(tenant, agent)!, window);
                var actual = rebuilt.Report(rebuilt.Find(tenant, agent)!, window);
                Assert.True(expected.Invocations > 0);
                Assert.NotNull(expected.Accuracy);
                Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(actual));
            }
        }
    }

    [Fact]
    public async Task Without_a_store_the_windows_start_empty()
    {
        var windows = Analytics.Windows(new ManualTimeProvider(Noon));
        using var services = new ServiceCollection().BuildServiceProvider();
        await new DerivationReplay(services, Pipeline(windows), NullLogger<DerivationReplay>.Instance)
            .StartAsync(CancellationToken.None);
        Assert.Empty(windows.AllAgents);
    }

    private static DerivationPipeline Pipeline(RollingWindows windows) =>
        new([new AnalyticsDerivation(windows)], NullLogger<DerivationPipeline>.Instance);
}
