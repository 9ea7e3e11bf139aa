using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using PerfOtel.Collector.Analytics;
using PerfOtel.Collector.Analytics.Metrics;
using PerfOtel.Collector.Analytics.Windows;
using PerfOtel.Collector.Model;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.Analytics.Records;

namespace PerfOtel.Collector.Tests.Analytics;

/// <summary>One collector's analytics with a real MeterProvider reading its gauges.</summary>
public sealed class AnalyticsInstance : IDisposable
{
    private readonly ServiceProvider services;
    private readonly MeterProvider meterProvider;
    private readonly AnalyticsMetrics instruments;

    public string MeterName { get; }

    public AnalyticsInstance(ManualTimeProvider clock, IDictionary<string, string?>? settings = null,
        Action<MeterProviderBuilder>? configureMeterProvider = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        services = new ServiceCollection()
            .AddLogging()
            .AddMetrics()
            .AddSingleton<TimeProvider>(clock)
            .AddPerfOtelAnalytics(configuration)
            .BuildServiceProvider();
        // A meter name of its own: MeterProviders subscribe by name process-wide, and other tests run collectors too.
        MeterName = AnalyticsMetricCatalog.MeterName + ".Test" + Guid.NewGuid().ToString("N");
        instruments = new AnalyticsMetrics(services.GetRequiredService<RollingWindows>(),
            services.GetRequiredService<IMeterFactory>(), MeterName);
        // Every observer the wiring registers (the cardinality guard's comes first), called in order as the writer does.
        Observer = new AllObservers(services.GetServices<IIngestObserver>().ToList());
        Windows = services.GetRequiredService<RollingWindows>();
        var builder = Metrics.Attach(Sdk.CreateMeterProviderBuilder().AddPerfOtelAnalyticsMetrics(MeterName));
        configureMeterProvider?.Invoke(builder);
        meterProvider = builder.Build();
    }

    public InMemoryMetrics Metrics { get; } = new();

    public MeterProvider MeterProvider => meterProvider;

    public IIngestObserver Observer { get; }

    internal RollingWindows Windows { get; }

    /// <summary>Every point of every metric, by Prometheus-style key "name{label=value,...}".</summary>
    public Dictionary<string, double> Scrape()
    {
        var points = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var metric in Metrics.Collect())
        {
            foreach (var point in metric.Points)
            {
                points[Key(metric.Name, point.Tags)] = point.Value;
            }
        }
        return points;
    }

    public static string Key(string name, IReadOnlyDictionary<string, object?> tags) =>
        name + "{" + string.Join(",", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}")) + "}";

    private sealed class AllObservers(IReadOnlyList<IIngestObserver> observers) : IIngestObserver
    {
        public void OnCommitted(IngestBatch batch)
        {
            foreach (var observer in observers)
            {
                observer.OnCommitted(batch);
            }
        }

        public void OnFeedbackJoined(FeedbackJoin join)
        {
            foreach (var observer in observers)
            {
                observer.OnFeedbackJoined(join);
            }
        }
    }

    public void Dispose()
    {
        meterProvider.Dispose();
        instruments.Dispose();
        services.Dispose();
    }
}

public class AnalyticsGaugeTests
{
    private static string Agent(string name, string agent, string window = "1h", string tenant = "default", string? extra = null) =>
        $"{name}{{agent={agent},{(extra is null ? "" : extra + ",")}tenant={tenant},window={window}}}";

    private static IngestBatch Calibrated(string agent, int copies)
    {
        var batch = new IngestBatch();
        for (var c = 0; c < copies; c++)
        {
            for (var i = 0; i < 5; i++)
            {
                batch.Invocations.Add(Invocation(agent, Noon, i < 4 ? Outcomes.Success : Outcomes.Failure, confidence: 0.8));
                batch.Invocations.Add(Invocation(agent, Noon, i < 1 ? Outcomes.Success : Outcomes.Failure, confidence: 0.2));
            }
        }
        return batch;
    }

    private static IngestBatch Overconfident(string agent, int copies)
    {
        var batch = new IngestBatch();
        for (var c = 0; c < copies; c++)
        {
            for (var i = 0; i < 10; i++)
            {
                batch.Invocations.Add(Invocation(agent, Noon, i < 7 ? Outcomes.Success : Outcomes.Failure, confidence: 0.9));
            }
        }
        return batch;
    }

    [Fact]
    public void Overconfident_agent_shows_the_higher_calibration_error()
    {
        using var collector = new AnalyticsInstance(new ManualTimeProvider(Noon.AddSeconds(30)));
        collector.Observer.OnCommitted(Calibrated("honest", 3));
        collector.Observer.OnCommitted(Overconfident("bold", 3));
        var points = collector.Scrape();

        Assert.Equal(0.2, points[Agent("perfotel.agent.calibration_error", "bold")], 9);
        Assert.Equal(0.2, points[Agent("perfotel.agent.calibration_max_error", "bold")], 9);
        Assert.Equal(0.25, points[Agent("perfotel.agent.brier_score", "bold")], 9);
        Assert.Equal(0.2, points[Agent("perfotel.agent.overconfidence", "bold")], 9);
        Assert.Equal(0, points[Agent("perfotel.agent.calibration_error", "honest")], 9);
        Assert.Equal(0.16, points[Agent("perfotel.agent.brier_score", "honest")], 9);
        Assert.Equal(0.7, points[Agent("perfotel.agent.calibration.bin.success", "bold", extra: "bin=9")], 9);
        Assert.Equal(0.9, points[Agent("perfotel.agent.calibration.bin.confidence", "bold", extra: "bin=9")], 9);
        Assert.Equal(30, points[Agent("perfotel.agent.calibration.bin.samples", "bold", extra: "bin=9")]);
        Assert.Equal(0.5, points[Agent("perfotel.agent.success", "honest", "24h")], 9);
        Assert.Equal(0.3, points[Agent("perfotel.agent.error", "bold", "24h")], 9);
        Assert.Equal(21, points[Agent("perfotel.agent.window.invocations", "bold", extra: "outcome=success")]);
        Assert.True(points.ContainsKey("perfotel.tenant.health_score{tenant=default,window=1h}"));
    }

    [Fact]
    public void Calibration_gauges_are_absent_below_the_minimum_but_its_sums_are_exposed()
    {
        using var collector = new AnalyticsInstance(new ManualTimeProvider(Noon.AddSeconds(30)));
        collector.Observer.OnCommitted(Overconfident("new", 2));
        var points = collector.Scrape();
        Assert.False(points.ContainsKey(Agent("perfotel.agent.calibration_error", "new")));
        Assert.False(points.ContainsKey(Agent("perfotel.agent.calibration.bin.success", "new", extra: "bin=9")));
        Assert.Equal(20, points[Agent("perfotel.agent.calibration.bin.samples", "new", extra: "bin=9")]);
        Assert.Equal(14, points[Agent("perfotel.agent.calibration.bin.successes", "new", extra: "bin=9")]);
        Assert.True(points.ContainsKey(Agent("perfotel.agent.health_score", "new")));
    }

    [Fact]
    public void The_minimum_sample_count_is_configurable()
    {
        using var collector = new AnalyticsInstance(new ManualTimeProvider(Noon.AddSeconds(30)),
            new Dictionary<string, string?> { ["Analytics:CalibrationMinimumSamples"] = "10" });
        collector.Observer.OnCommitted(Overconfident("new", 1));
        Assert.Equal(0.2, collector.Scrape()[Agent("perfotel.agent.calibration_error", "new")], 9);
    }

    [Fact]
    public void Series_of_an_expired_window_disappear()
    {
        var clock = new ManualTimeProvider(Noon.AddSeconds(30));
        using var collector = new AnalyticsInstance(clock);
        collector.Observer.OnCommitted(Overconfident("gone", 3));
        Assert.True(collector.Scrape().ContainsKey(Agent("perfotel.agent.success", "gone")));

        clock.Set(Noon.AddHours(1));
        var points = collector.Scrape();
        Assert.False(points.ContainsKey(Agent("perfotel.agent.success", "gone")));
        Assert.True(points.ContainsKey(Agent("perfotel.agent.success", "gone", "24h")));
    }

    [Fact]
    public void Exported_names_units_and_labels_are_those_of_the_catalog()
    {
        using var collector = new AnalyticsInstance(new ManualTimeProvider(Noon.AddMinutes(30)));
        // Enough history for anomaly and trend series, plus accuracy, tokens, cost and task types.
        for (var minute = -90; minute < 30; minute += 1)
        {
            var invocation = Invocation("full", Noon.AddMinutes(minute), confidence: 0.7, taskType: minute % 2 == 0 ? "a" : "b");
            var batch = Batch(invocation);
            batch.ProviderCalls.Add(Call(invocation, 10, 5, 0.01));
            batch.Evaluations.Add(Evaluation(invocation, "accuracy", 0.8));
            collector.Observer.OnCommitted(batch);
        }
        var exported = collector.Metrics.Collect().ToDictionary(m => m.Name);
        foreach (var definition in AnalyticsMetricCatalog.All)
        {
            Assert.True(exported.TryGetValue(definition.Name, out var metric), $"{definition.Name} not exported");
            Assert.Equal(definition.Unit, metric.Unit);
            Assert.Equal(definition.Description, metric.Description);
            Assert.Equal(collector.MeterName, metric.MeterName);
            Assert.NotEmpty(metric.Points);
            foreach (var point in metric.Points)
            {
                Assert.Equal(definition.Labels.Order(StringComparer.Ordinal), point.Tags.Keys.Order(StringComparer.Ordinal));
            }
        }
        Assert.Equal(AnalyticsMetricCatalog.All.Count, exported.Count);
    }
}
