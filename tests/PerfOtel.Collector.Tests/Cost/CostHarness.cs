using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
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
/// the cost families' producers read as a scrape would (<see cref="CostScrape"/>). Batches are committed the way the writer
/// does: every registered observer, in registration order.
/// </summary>
public sealed class CostHarness : IAsyncDisposable
{
    private readonly ServiceProvider services;

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
        Metrics = new CostScrape(MetricsExpositionExtensions.CostProducers(services).ToArray());
    }

    public ManualClock Clock { get; }

    public InMemoryExecutionStore Store { get; }

    public CostScrape Metrics { get; }

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
        await services.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// The families of <see cref="CostMetricCatalog"/> as one scrape writes them: every producer's text output, read back
/// into one <see cref="ExportedMetric"/> per family named by its OpenTelemetry name (the histogram is left out).
/// </summary>
public sealed class CostScrape
{
    private static readonly Dictionary<string, PerfOtel.Instrumentation.Conventions.MetricDefinition> ByPrometheusName =
        CostMetricCatalog.All.ToDictionary(d => d.PrometheusName, StringComparer.Ordinal);

    private readonly PerfOtel.Exporter.IPrometheusMetricProducer[] producers;

    internal CostScrape(PerfOtel.Exporter.IPrometheusMetricProducer[] producers) => this.producers = producers;

    /// <summary>The text format lines the producers write now.</summary>
    internal string Text(PerfOtel.Exporter.Implementation.Serialization.ExpositionFormat format = PerfOtel.Exporter.Implementation.Serialization.ExpositionFormat.PrometheusText)
    {
        using var buffer = new PerfOtel.Exporter.Implementation.Serialization.ExpositionBuffer();
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var producer in producers)
        {
            producer.Produce(new PerfOtel.Exporter.PrometheusProducerWriter(buffer, format, claimed, int.MaxValue));
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public IReadOnlyList<ExportedMetric> Collect() =>
        PerfOtel.Collector.Tests.Analytics.ExpositionText.Samples(Text())
            .Where(sample => ByPrometheusName.ContainsKey(sample.Name))
            .GroupBy(sample => sample.Name, StringComparer.Ordinal)
            .Select(family =>
            {
                var definition = ByPrometheusName[family.Key];
                var type = definition.Kind == PerfOtel.Instrumentation.Conventions.MetricInstrumentKind.Counter
                    ? (definition.ValueType == "long" ? OpenTelemetry.Metrics.MetricType.LongSum : OpenTelemetry.Metrics.MetricType.DoubleSum)
                    : OpenTelemetry.Metrics.MetricType.DoubleGauge;
                return new ExportedMetric(definition.Name, definition.Unit, definition.Description, type, "PerfOtel.Collector", null,
                    family.Select(sample => new ExportedPoint(sample.Labels.ToDictionary(l => l.Key, l => (object?)l.Value), sample.Value, 0, 0, [], []))
                        .ToArray());
            })
            .ToArray();
}
