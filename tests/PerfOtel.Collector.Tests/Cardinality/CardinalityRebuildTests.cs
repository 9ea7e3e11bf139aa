using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Hosting;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Tests.Analytics;
using static PerfOtel.Collector.Tests.Analytics.Records;
using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Cardinality;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Cardinality;

/// <summary>
/// The analytics rebuild reads two windows of history, the cost rebuild the whole month: without one order of
/// admission for both, a value seen live only before the analytics' horizon would lose its series after a restart.
/// </summary>
public sealed class CardinalityRebuildTests
{
    private const string Overflow = CardinalityGuard.Overflow;
    private static readonly string[] Agents = ["veteran", "newcomer-1", "newcomer-2", "newcomer-3"];

    [Fact]
    public async Task A_restart_keeps_the_values_live_ingestion_kept_even_those_seen_only_before_the_analytics_history()
    {
        var store = new Cost.InMemoryExecutionStore();
        var clock = new ManualTimeProvider(Noon.AddDays(-4));
        await using var live = await AnalyticsAndCost.StartAsync(clock, store);
        // Four days ago (beyond the 48 hours the analytics rebuild reads, inside the month the cost rebuild reads).
        live.Commit(Agents[0], Noon.AddDays(-4));
        clock.Set(Noon);
        for (var i = 1; i < Agents.Length; i++)
        {
            live.Commit(Agents[i], Noon.AddMinutes(-10 + i));
        }
        Assert.Equal(["veteran", "newcomer-1", Overflow, Overflow], Agents.Select(a => live.Guard.Agent("default", a)));

        await using var restarted = await AnalyticsAndCost.StartAsync(clock, store);

        Assert.Equal(["veteran", "newcomer-1", Overflow, Overflow], Agents.Select(a => restarted.Guard.Agent("default", a)));
        Assert.Equal(live.MonthCost(), restarted.MonthCost());
        Assert.Contains("\"Agent\":\"veteran\"", live.MonthCost(), StringComparison.Ordinal);
        Assert.Equal(live.HourAgents(), restarted.HourAgents());
        Assert.Equal([Overflow, "newcomer-1"], restarted.HourAgents());
    }

    /// <summary>The analytics and cost services as the collector registers them, over a store double.</summary>
    private sealed class AnalyticsAndCost(ServiceProvider services) : IAsyncDisposable
    {
        public static async Task<AnalyticsAndCost> StartAsync(TimeProvider clock, IExecutionStore store)
        {
            var configuration = new ConfigurationBuilder()
                .AddInMemoryCollection([new("Cardinality:MaxAgentsPerTenant", "2")])
                .Build();
            var services = new ServiceCollection()
                .AddLogging()
                .AddSingleton(clock)
                .AddSingleton(store)
                .AddPerfOtelDerived(configuration)
                .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
            services.GetRequiredService<IStartupValidator>().Validate();
            foreach (var hosted in services.GetServices<IHostedService>())
            {
                await hosted.StartAsync(CancellationToken.None);
            }
            return new AnalyticsAndCost(services);
        }

        public CardinalityGuard Guard => services.GetRequiredService<CardinalityGuard>();

        /// <summary>An invocation of the agent with one priced provider call, committed as the writer does.</summary>
        public void Commit(string agent, DateTimeOffset at)
        {
            var invocation = Invocation(agent, at);
            var batch = new IngestBatch();
            batch.Invocations.Add(invocation);
            batch.ProviderCalls.Add(Call(invocation, 100, 10, 0.01));
            services.GetRequiredService<IExecutionStore>().WriteAsync(batch, CancellationToken.None).GetAwaiter().GetResult();
            services.GetRequiredService<DerivationPipeline>().Apply(batch);
        }

        public string MonthCost() =>
            JsonSerializer.Serialize(services.GetRequiredService<CostLedger>().Rows("default", CalendarPeriod.Monthly));

        public List<string> HourAgents()
        {
            var windows = services.GetRequiredService<RollingWindows>();
            return windows.Agents("default", windows.WindowIndexOf("1h")).Select(a => a.Agent).ToList();
        }

        public ValueTask DisposeAsync() => services.DisposeAsync();
    }
}
