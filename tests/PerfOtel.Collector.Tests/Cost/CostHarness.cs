using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using PerfOtel.Testing;
using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Derived.Models;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Cost;

/// <summary>
/// The cost services as the collector registers them (AddPerfOtelCost), with a manual clock, a store test double and a
/// real MeterProvider reading the meter into <see cref="InMemoryMetrics"/>. Batches are committed the way the writer
/// does: every registered observer, in registration order.
/// </summary>
public sealed class CostHarness : IAsyncDisposable
{
    private readonly ServiceProvider services;
    private readonly MeterProvider meterProvider;

    public CostHarness(DateTimeOffset now, IDictionary<string, string?>? settings = null, InMemoryExecutionStore? store = null)
    {
        Clock = new ManualClock(now);
        Store = store ?? new InMemoryExecutionStore();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddSingleton<TimeProvider>(Clock);
        collection.AddSingleton<IExecutionStore>(Store);
        collection.AddPerfOtelDerived(configuration);
        services = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        meterProvider = Metrics.Build(Sdk.CreateMeterProviderBuilder().AddPerfOtelCostMetrics());
    }

    public ManualClock Clock { get; }

    public InMemoryExecutionStore Store { get; }

    public InMemoryMetrics Metrics { get; } = new();

    public T Get<T>() where T : notnull => services.GetRequiredService<T>();

    public CostLedger Ledger => Get<CostLedger>();

    public BudgetTracker Budgets => Get<BudgetTracker>();

    public ModelComparison Models => Get<ModelComparison>();

    public ExperimentRegistry Experiments => Get<ExperimentRegistry>();

    /// <summary>Runs the hosted services' start (option validation, rebuild from the store, instrument creation).</summary>
    public async Task StartAsync()
    {
        services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();
        foreach (var hosted in services.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the batch to the store double and tells every observer, as the writer does.</summary>
    public void Commit(IngestBatch batch)
    {
        Store.WriteAsync(batch, CancellationToken.None).GetAwaiter().GetResult();
        services.GetRequiredService<DerivationPipeline>().Apply(batch);
    }

    public void Commit(params object[] records) => Commit(CostRecords.Batch(records));

    public void FeedbackJoined(FeedbackJoin join)
    {
        var joined = new IngestBatch();
        joined.JoinedFeedback.Add(join);
        services.GetRequiredService<DerivationPipeline>().Apply(joined);
    }

    public async ValueTask DisposeAsync()
    {
        meterProvider.Dispose();
        await services.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// Tests that create the meter PerfOtel.Collector.Cost run one at a time and apart from every other collection: the
/// SDK listens to meters by name process-wide, so two live containers would see each other's instruments.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CostMeterCollection
{
    public const string Name = "Cost meter";
}
