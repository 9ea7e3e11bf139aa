using PerfOtel.Collector.Derived;
using Microsoft.Extensions.Logging.Abstractions;
using PerfOtel.Collector.Derived.Cardinality;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PerfOtel.Exporter;
using PerfOtel.Exporter.Implementation.Serialization;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.Analytics.Records;
using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Analytics;

/// <summary>One collector's analytics and the exposition its PerfOtel.Exporter producer writes into a scrape.</summary>
public sealed class AnalyticsInstance : IDisposable
{
    private static readonly Dictionary<string, string> OpenTelemetryNames =
        AnalyticsMetricCatalog.All.ToDictionary(d => d.PrometheusName, d => d.Name, StringComparer.Ordinal);

    private readonly ServiceProvider services;

    public AnalyticsInstance(ManualTimeProvider clock, IDictionary<string, string?>? settings = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(clock)
            .AddPerfOtelAnalytics(configuration)
            .AddPerfOtelAnalyticsExposition()
            .BuildServiceProvider();
        Exposition = services.GetRequiredService<AnalyticsExposition>();
        Refresher = services.GetServices<IHostedService>().OfType<AnalyticsExpositionRefresher>().Single();
        // The analytics' derivations in the composition root's order (the cardinality guard's first), as the writer applies them.
        Observer = new DerivationPipeline(
            [services.GetRequiredService<CardinalityDerivation>(), services.GetRequiredService<AnalyticsDerivation>()],
            NullLogger<DerivationPipeline>.Instance);
        Windows = services.GetRequiredService<RollingWindows>();
    }

    internal AnalyticsExposition Exposition { get; }

    /// <summary>The background refresher; not started unless a test starts it.</summary>
    internal AnalyticsExpositionRefresher Refresher { get; }

    public DerivationPipeline Observer { get; }

    internal RollingWindows Windows { get; }

    /// <summary>The producer's output in one exposition format, as the exporter writes it into a scrape.</summary>
    internal string Text(ExpositionFormat format = ExpositionFormat.PrometheusText)
    {
        using var buffer = new ExpositionBuffer();
        Exposition.Produce(new PrometheusProducerWriter(buffer, format, new HashSet<string>(StringComparer.Ordinal), int.MaxValue));
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Every sample, keyed "OpenTelemetry name{label=value,...}" with labels in name order.</summary>
    public Dictionary<string, double> Scrape()
    {
        var points = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var sample in ExpositionText.Samples(Text()))
        {
            points[Key(OpenTelemetryNames[sample.Name], sample.Labels)] = sample.Value;
        }
        return points;
    }

    public static string Key(string name, IReadOnlyDictionary<string, string> labels) =>
        name + "{" + string.Join(",", labels.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}")) + "}";

    public void Dispose() => services.Dispose();
}

/// <summary>A strict reader of exposition sample lines (enough to check what the exporter writes, escapes included).</summary>
internal static class ExpositionText
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public static IEnumerable<Sample> Samples(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            yield return Parse(line);
        }
    }

    public static Sample Parse(string line)
    {
        var brace = line.IndexOf('{', StringComparison.Ordinal);
        var space = line.LastIndexOf(' ');
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (brace < 0)
        {
            return new Sample(line[..space], labels, ParseValue(line[(space + 1)..]));
        }
        var at = brace + 1;
        while (line[at] != '}')
        {
            var equals = line.IndexOf("=\"", at, StringComparison.Ordinal);
            var name = line[at..equals];
            var value = new StringBuilder();
            at = equals + 2;
            while (line[at] != '"')
            {
                if (line[at] == '\\')
                {
                    at++;
                    value.Append(line[at] switch { 'n' => '\n', '"' => '"', '\\' => '\\', _ => throw new FormatException($"bad escape in {line}") });
                }
                else
                {
                    value.Append(line[at]);
                }
                at++;
            }
            Assert.True(labels.TryAdd(name, value.ToString()), $"label {name} twice in {line}");
            at++;
            if (line[at] == ',')
            {
                at++;
            }
        }
        Assert.Equal(' ', line[at + 1]);
        return new Sample(line[..brace], labels, ParseValue(line[(at + 2)..]));
    }

    private static double ParseValue(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };
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
        collector.Observer.Apply(Calibrated("honest", 3));
        collector.Observer.Apply(Overconfident("bold", 3));
        var points = collector.Scrape();

        Assert.Equal(0.2, points[Agent("perfotel.agent.calibration_error", "bold")], 9);
        Assert.Equal(0.2, points[Agent("perfotel.agent.calibration_max_error", "bold")], 9);
        Assert.Equal(0.25, points[Agent("perfotel.agent.brier_score", "bold")], 9);
        Assert.Equal(0.2, points[Agent("perfotel.agent.overconfidence", "bold")], 9);
        Assert.Equal(0, points[Agent("perfotel.agent.calibration_error", "honest")], 9);
        Assert.Equal(0.16, points[Agent("perfotel.agent.brier_score", "honest")], 9);
        Assert.Equal(0.7, points[Agent("perfotel.agent.calibration.bin.success_ratio", "bold", extra: "bin=9")], 9);
        Assert.Equal(0.9, points[Agent("perfotel.agent.calibration.bin.confidence", "bold", extra: "bin=9")], 9);
        Assert.Equal(30, points[Agent("perfotel.agent.calibration.bin.samples", "bold", extra: "bin=9")]);
        Assert.Equal(0.5, points[Agent("perfotel.agent.success_ratio", "honest", "24h")], 9);
        Assert.Equal(0.3, points[Agent("perfotel.agent.error_ratio", "bold", "24h")], 9);
        Assert.Equal(21, points[Agent("perfotel.agent.window.invocations", "bold", extra: "outcome=success")]);
        Assert.True(points.ContainsKey("perfotel.tenant.health_score{tenant=default,window=1h}"));
    }

    [Fact]
    public void Calibration_gauges_are_absent_below_the_minimum_but_its_sums_are_exposed()
    {
        using var collector = new AnalyticsInstance(new ManualTimeProvider(Noon.AddSeconds(30)));
        collector.Observer.Apply(Overconfident("new", 2));
        var points = collector.Scrape();
        Assert.False(points.ContainsKey(Agent("perfotel.agent.calibration_error", "new")));
        Assert.False(points.ContainsKey(Agent("perfotel.agent.calibration.bin.success_ratio", "new", extra: "bin=9")));
        Assert.Equal(20, points[Agent("perfotel.agent.calibration.bin.samples", "new", extra: "bin=9")]);
        Assert.Equal(14, points[Agent("perfotel.agent.calibration.bin.successes", "new", extra: "bin=9")]);
        Assert.True(points.ContainsKey(Agent("perfotel.agent.health_score", "new")));
    }

    [Fact]
    public void The_minimum_sample_count_is_configurable()
    {
        using var collector = new AnalyticsInstance(new ManualTimeProvider(Noon.AddSeconds(30)),
            new Dictionary<string, string?> { ["Analytics:CalibrationMinimumSamples"] = "10" });
        collector.Observer.Apply(Overconfident("new", 1));
        Assert.Equal(0.2, collector.Scrape()[Agent("perfotel.agent.calibration_error", "new")], 9);
    }

    [Fact]
    public void Series_of_an_expired_window_disappear()
    {
        var clock = new ManualTimeProvider(Noon.AddSeconds(30));
        using var collector = new AnalyticsInstance(clock);
        collector.Observer.Apply(Overconfident("gone", 3));
        Assert.True(collector.Scrape().ContainsKey(Agent("perfotel.agent.success_ratio", "gone")));

        clock.Set(Noon.AddHours(1));
        var points = collector.Scrape();
        Assert.False(points.ContainsKey(Agent("perfotel.agent.success_ratio", "gone")));
        Assert.True(points.ContainsKey(Agent("perfotel.agent.success_ratio", "gone", "24h")));
    }

    [Fact]
    public void Exported_names_units_help_and_labels_are_those_of_the_catalog()
    {
        using var collector = new AnalyticsInstance(new ManualTimeProvider(Noon.AddMinutes(30)));
        // Enough history for anomaly and trend series, plus accuracy, quality, tokens, cost and task types.
        for (var minute = -90; minute < 30; minute += 1)
        {
            var invocation = Invocation("full", Noon.AddMinutes(minute), confidence: 0.7, taskType: minute % 2 == 0 ? "a" : "b",
                quality: 0.75);
            var batch = Batch(invocation);
            batch.ProviderCalls.Add(Call(invocation, 10, 5, 0.01));
            batch.Evaluations.Add(Evaluation(invocation, "accuracy", 0.8));
            collector.Observer.Apply(batch);
        }

        Assert.Equal(AnalyticsMetricCatalog.All.Select(d => d.Name).Order(StringComparer.Ordinal),
            AnalyticsExposition.Definitions.Select(d => d.Name).Order(StringComparer.Ordinal));
        var openMetrics = collector.Text(ExpositionFormat.OpenMetrics).Split('\n');
        var text = collector.Text().Split('\n');
        var samples = ExpositionText.Samples(string.Join('\n', text)).ToList();
        foreach (var definition in AnalyticsMetricCatalog.All)
        {
            var name = definition.PrometheusName;
            Assert.Equal(name, AnalyticsExposition.Family(definition).Name);
            Assert.Contains($"# TYPE {name} gauge", text);
            Assert.Contains($"# HELP {name} {definition.Description}", text);
            Assert.Contains($"# TYPE {name} gauge", openMetrics);
            Assert.Contains($"# HELP {name} {definition.Description}", openMetrics);
            // Unit 1 is dimensionless: no UNIT line, the ratio says "_ratio" in its name (as OpenTelemetry's exporter has it).
            var unitWord = name.EndsWith("_seconds", StringComparison.Ordinal) ? "seconds" : null;
            Assert.Equal(unitWord is null ? 0 : 1, openMetrics.Count(l => l == $"# UNIT {name} {unitWord}"));
            var ofFamily = samples.Where(s => s.Name == name).ToList();
            Assert.NotEmpty(ofFamily);
            Assert.All(ofFamily, s => Assert.Equal(definition.Attributes.Order(StringComparer.Ordinal), s.Labels.Keys.Order(StringComparer.Ordinal)));
        }
        Assert.Equal(AnalyticsMetricCatalog.All.Count, text.Count(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)));
    }

    [Fact]
    public void An_agent_name_that_needs_escaping_is_written_escaped()
    {
        using var collector = new AnalyticsInstance(new ManualTimeProvider(Noon.AddSeconds(30)));
        const string hostile = "a\"b\\c\nd";
        collector.Observer.Apply(Overconfident(hostile, 1));
        var text = collector.Text();
        Assert.Contains("agent=\"a\\\"b\\\\c\\nd\"", text, StringComparison.Ordinal);
        Assert.Equal(7, collector.Scrape()[Agent("perfotel.agent.window.invocations", hostile, extra: "outcome=success")]);
    }

    [Fact]
    public void An_unchanged_fleet_is_served_from_the_encoded_snapshot_and_a_change_is_seen()
    {
        var clock = new ManualTimeProvider(Noon.AddSeconds(30));
        using var collector = new AnalyticsInstance(clock);
        collector.Observer.Apply(Overconfident("steady", 3));
        collector.Observer.Apply(Overconfident("busy", 3));
        var first = collector.Text();
        Assert.Equal(first, collector.Text());

        collector.Observer.Apply(Calibrated("busy", 1));
        var points = collector.Scrape();
        Assert.Equal(9 + 5, points[Agent("perfotel.agent.window.invocations", "busy", extra: "outcome=failure")]);
        Assert.Equal(30, points[Agent("perfotel.agent.calibration.bin.samples", "steady", extra: "bin=9")]);
    }

    [Fact]
    public async Task With_a_refresher_running_a_scrape_serves_its_latest_encoding_instead_of_deriving()
    {
        var clock = new ManualTimeProvider(Noon.AddSeconds(30));
        // A long interval: the refresher encodes once at start, then the test decides when the next refresh happens.
        using var collector = new AnalyticsInstance(clock, new Dictionary<string, string?> { ["Analytics:ExpositionRefreshInterval"] = "00:00:30" });
        collector.Observer.Apply(Overconfident("early", 3));
        var refresher = collector.Refresher;
        await refresher.StartAsync(CancellationToken.None);
        try
        {
            await WaitUntilAsync(() => collector.Exposition.Builds >= 1);
            var builds = collector.Exposition.Builds;

            collector.Observer.Apply(Overconfident("late", 3));
            var served = collector.Scrape();
            Assert.Equal(builds, collector.Exposition.Builds);
            Assert.True(served.ContainsKey(Agent("perfotel.agent.success_ratio", "early")));
            Assert.False(served.ContainsKey(Agent("perfotel.agent.success_ratio", "late")));

            collector.Exposition.Refresh();
            Assert.True(collector.Scrape().ContainsKey(Agent("perfotel.agent.success_ratio", "late")));
        }
        finally
        {
            await refresher.StopAsync(CancellationToken.None);
        }

        // Without a running refresher every scrape is current.
        collector.Observer.Apply(Overconfident("after", 1));
        Assert.True(collector.Scrape().ContainsKey(Agent("perfotel.agent.success_ratio", "after")));
    }

    [Fact]
    public async Task The_refresher_keeps_the_encoding_current_on_its_own()
    {
        var clock = new ManualTimeProvider(Noon.AddSeconds(30));
        using var collector = new AnalyticsInstance(clock, new Dictionary<string, string?> { ["Analytics:ExpositionRefreshInterval"] = "00:00:00.050" });
        var refresher = collector.Refresher;
        await refresher.StartAsync(CancellationToken.None);
        try
        {
            await WaitUntilAsync(() => collector.Exposition.Builds >= 1);
            // The clock stands still, so with nothing new the refresher has nothing to rebuild.
            var before = collector.Exposition.Builds;
            collector.Observer.Apply(Overconfident("new", 3));
            await WaitUntilAsync(() => collector.Exposition.Builds > before);
            Assert.True(collector.Scrape().ContainsKey(Agent("perfotel.agent.calibration_error", "new")));
        }
        finally
        {
            await refresher.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData("-00:00:01")]
    [InlineData("00:01:00.001")]
    public void A_refresh_interval_out_of_range_is_a_configuration_error_naming_the_setting(string interval)
    {
        var problems = new AnalyticsOptions { ExpositionRefreshInterval = TimeSpan.Parse(interval, CultureInfo.InvariantCulture) }.Problems().ToList();
        Assert.Contains(problems, p => p.StartsWith("Analytics:ExpositionRefreshInterval", StringComparison.Ordinal));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 20 s");
            await Task.Delay(10);
        }
    }
}
