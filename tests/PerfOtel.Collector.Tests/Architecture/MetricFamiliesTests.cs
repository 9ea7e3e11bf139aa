using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Google.Protobuf;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Trace.V1;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.Architecture;

/// <summary>
/// Every family the collector's <c>/metrics</c> shows is declared once, as a <see cref="MetricDefinition"/> of
/// <see cref="MetricFamilies"/>, with the Prometheus type its kind gives; and every declared family shows on a real scrape
/// once the data it describes exists, but for those that need an event this scrape cannot produce (listed, with why).
/// </summary>
public sealed partial class MetricFamiliesTests
{
    /// <summary>Declared families a scrape after ordinary traffic does not show, and why.</summary>
    private static readonly Dictionary<string, string> NeedAnEventOfTheirOwn = new(StringComparer.Ordinal)
    {
        ["perfotel_collector_log_records_received_total"] = "counted when OTLP logs arrive",
        ["perfotel_collector_metric_points_received_total"] = "counted when OTLP metrics arrive",
        ["perfotel_collector_metric_points_dropped_total"] = "counted when pushed OTLP metric points are refused",
        ["perfotel_collector_metric_series"] = "one series per tenant that pushed OTLP metrics",
        ["perfotel_collector_grpc_requests_total"] = "counted on the OTLP/gRPC listener, which the in-process test server has not",
        ["perfotel_collector_connections_misdirected_total"] = "counted when an exporter speaks the other transport",
        ["perfotel_collector_records_duplicate_total"] = "counted when a span is sent twice",
        ["perfotel_collector_cardinality_overflow_total"] = "counted when a limit folds a value into __overflow__",
        ["perfotel_collector_attribution_resolved_total"] = "counted when an ancestor arrives in a later request",
        ["perfotel_collector_attribution_expired_total"] = "counted when the attribution horizon passes",
        ["perfotel_collector_attribution_late_total"] = "counted when an ancestor arrives after the horizon",
        ["perfotel_collector_derivation_lag_seconds"] = "only on the derivation leader of replicas sharing PostgreSQL",
        ["perfotel_collector_report_deliveries_total"] = "counted when a scheduled report is delivered",
        ["perfotel_collector_store_commit_duration_seconds"] = "recorded by the SQLite store, which this test server replaces with an in-memory one (SqliteCheckpointerTests scrapes it)",
        ["perfotel_collector_store_wal_flush_duration_seconds"] = "recorded by the SQLite store, which this test server replaces with an in-memory one (SqliteCheckpointerTests scrapes it)",
        ["perfotel_collector_store_checkpoint_duration_seconds"] = "recorded by the SQLite store, which this test server replaces with an in-memory one (SqliteCheckpointerTests scrapes it)",
        ["perfotel_collector_store_checkpoint_pages_total"] = "recorded by the SQLite store, which this test server replaces with an in-memory one (SqliteCheckpointerTests scrapes it)",
        ["perfotel_collector_store_wal_frames_total"] = "recorded by the SQLite store, which this test server replaces with an in-memory one (SqliteCheckpointerTests scrapes it)",
        ["perfotel_collector_store_wal_pages"] = "recorded by the SQLite store, which this test server replaces with an in-memory one (SqliteCheckpointerTests scrapes it)",
        ["perfotel_collector_store_writes_redone_total"] = "recorded by the PostgreSQL store when a write meets a stored record (PostgresExecutionStoreTests scrapes it)",
        ["perfotel_agent_calibration_error"] = "needs Analytics:CalibrationMinimumSamples samples",
        ["perfotel_agent_calibration_max_error"] = "needs Analytics:CalibrationMinimumSamples samples",
        ["perfotel_agent_brier_score"] = "needs Analytics:CalibrationMinimumSamples samples",
        ["perfotel_agent_overconfidence"] = "needs Analytics:CalibrationMinimumSamples samples",
        ["perfotel_agent_calibration_bin_success_ratio"] = "needs Analytics:CalibrationMinimumSamples samples",
        ["perfotel_agent_calibration_bin_confidence"] = "needs Analytics:CalibrationMinimumSamples samples",
        ["perfotel_agent_anomaly_score"] = "needs completed buckets of history",
        ["perfotel_agent_specialization_score"] = "needs several task types",
        ["perfotel_agent_trend"] = "needs a previous window to compare with",
    };

    [Fact]
    public async Task Every_family_on_a_real_scrape_is_declared_and_every_declared_family_is_scraped()
    {
        await using var collector = new CollectorFactory(new()
        {
            ["Budgets:Tenants:default:DailyUsd"] = "10",
            ["Budgets:Tenants:default:MonthlyUsd"] = "100",
            ["Budgets:Tenants:default:Agents:planner:DailyUsd"] = "5",
            ["Experiments:Definitions:default:model-swap:Variants:control"] = "1",
            ["Experiments:Definitions:default:model-swap:Variants:cheaper"] = "1",
            ["Experiments:Definitions:default:model-swap:Control"] = "control",
            ["Experiments:Definitions:default:model-swap:Guardrails:latency"] = "0.1",
        });
        using var client = collector.CreateClient();
        var now = (ulong)DateTimeOffset.UtcNow.AddSeconds(-5).ToUnixTimeMilliseconds() * 1_000_000;
        var spans = new List<Span>();
        for (var i = 1; i <= 4; i++)
        {
            var invocation = Timed(Span("invoke_agent planner", TraceId(i), SpanId(10 * i), attributes:
            [
                (GenAiAttributes.OperationName, GenAiOperations.InvokeAgent), (GenAiAttributes.AgentName, "planner"),
                (PerfOtelAttributes.Outcome, i % 2 == 0 ? "success" : "failure"), (PerfOtelAttributes.Confidence, 0.7),
                (PerfOtelAttributes.Quality, 0.8), (PerfOtelAttributes.TaskType, "plan"),
                (PerfOtelAttributes.Experiment, "model-swap"), (PerfOtelAttributes.Variant, i % 2 == 0 ? "control" : "cheaper"),
            ]), now);
            invocation.Events.Add(Evaluation(now, "accuracy", 0.9));
            spans.Add(invocation);
            spans.Add(Timed(Span("chat priced-model", TraceId(i), SpanId((10 * i) + 1), SpanId(10 * i), attributes:
            [
                (GenAiAttributes.OperationName, GenAiOperations.Chat), (GenAiAttributes.ProviderName, "openai"),
                (GenAiAttributes.RequestModel, "priced-model"), (GenAiAttributes.UsageInputTokens, 100L),
                (GenAiAttributes.UsageOutputTokens, 20L), (PerfOtelAttributes.CostUsd, 0.01),
            ]), now));
            if (i < 4)
            {
                continue; // invocations with an unpriced call have no known cost: one is enough
            }
            spans.Add(Timed(Span("chat unpriced-model", TraceId(i), SpanId((10 * i) + 2), SpanId(10 * i), attributes:
            [
                (GenAiAttributes.OperationName, GenAiOperations.Chat), (GenAiAttributes.ProviderName, "openai"),
                (GenAiAttributes.RequestModel, "no-price-known-for-this-model"), (GenAiAttributes.UsageInputTokens, 50L),
                (GenAiAttributes.UsageOutputTokens, 5L),
            ]), now - 1_000_000_000)); // before the priced call, which is the invocation's last and so serves it
        }
        using (var response = await client.PostAsync(new Uri("/v1/traces", UriKind.Relative), Protobuf(Traces(spans))))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        // One refused span, so the rejection counter has a series.
        using (var refused = await client.PostAsync(new Uri("/v1/traces", UriKind.Relative),
            Protobuf(Traces([Span("no ids", ByteString.Empty, ByteString.Empty)]))))
        {
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        }

        // The analytics producer writes a snapshot its refresher renews every second: take one now.
        collector.Services.GetRequiredService<AnalyticsExposition>().Refresh();
        var families = Families(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));

        var declared = MetricFamilies.All.Append(ProcessMetricCatalog.TargetInfo)
            .ToDictionary(d => d.PrometheusName, StringComparer.Ordinal);
        var undeclared = families.Keys.Where(f => !declared.ContainsKey(f)).Order(StringComparer.Ordinal).ToList();
        Assert.True(undeclared.Count == 0, "families on /metrics that no catalog declares: " + string.Join(", ", undeclared));
        Assert.All(families, f => Assert.Equal(PrometheusType(declared[f.Key]), f.Value));

        var missing = declared.Keys.Where(d => !families.ContainsKey(d) && !NeedAnEventOfTheirOwn.ContainsKey(d))
            .Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "declared families missing from the scrape: " + string.Join(", ", missing));
        // The list of exceptions names declared families only, and none that did show up (it would hide nothing).
        Assert.All(NeedAnEventOfTheirOwn.Keys, name => Assert.True(declared.ContainsKey(name), $"{name} is not declared"));
        Assert.All(NeedAnEventOfTheirOwn.Keys, name => Assert.False(families.ContainsKey(name), $"{name} was scraped: drop it from the exceptions"));
    }

    [Fact]
    public void The_self_metric_instruments_are_exactly_the_catalog()
    {
        using var factory = new TestMeterFactory();
        var published = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (factory.Created(instrument.Meter))
                {
                    published.Add(instrument);
                }
            },
        };
        listener.Start();
        var metrics = new CollectorMetrics(factory);
        // The queue's and the attribution's gauges are created when their owners register the callbacks.
        metrics.ObserveQueue(() => 0, () => 0);
        metrics.ObserveAttribution(() => 0, () => 0, () => 0);

        Assert.Equal(SelfMetricCatalog.All.Select(d => d.Name).Order(StringComparer.Ordinal), published.Select(i => i.Name).Order(StringComparer.Ordinal));
        foreach (var instrument in published)
        {
            var definition = SelfMetricCatalog.All.Single(d => d.Name == instrument.Name);
            Assert.Equal(definition.Unit, instrument.Unit);
            Assert.Equal(definition.Description, instrument.Description);
            var type = instrument.GetType().GetGenericTypeDefinition();
            var kind = type == typeof(Counter<>) || type == typeof(ObservableCounter<>) ? MetricInstrumentKind.Counter
                : type == typeof(Histogram<>) ? MetricInstrumentKind.Histogram
                : type == typeof(ObservableGauge<>) ? MetricInstrumentKind.Gauge
                : throw new InvalidOperationException($"{instrument.Name}: {type.Name} is not a kind the catalog declares");
            Assert.Equal(definition.Kind, kind);
            Assert.Equal(definition.ValueType, instrument.GetType().GetGenericArguments()[0] == typeof(long) ? "long" : "double");
        }
    }

    [Fact]
    public void Definitions_are_unique_by_name_and_prometheus_name()
    {
        Assert.Equal(MetricFamilies.All.Count, MetricFamilies.All.Select(d => d.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(MetricFamilies.All.Count, MetricFamilies.All.Select(d => d.PrometheusName).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void An_instrument_of_another_kind_than_declared_is_refused()
    {
        using var factory = new TestMeterFactory();
        var meter = factory.Create(new MeterOptions("test"));
        var error = Assert.Throws<ArgumentException>(() => meter.CounterOf<long>(SelfMetricCatalog.QueueRecords));
        Assert.Contains("perfotel.collector.queue.records is declared as a long Gauge", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => meter.CounterOf<double>(SelfMetricCatalog.SpansReceived));
    }

    private static string PrometheusType(MetricDefinition definition) => definition.Kind switch
    {
        MetricInstrumentKind.Counter => "counter",
        MetricInstrumentKind.Histogram => "histogram",
        _ => "gauge",
    };

    /// <summary>Family name to type, from the <c># TYPE</c> lines; a counter's family is named with its <c>_total</c> samples.</summary>
    private static Dictionary<string, string> Families(string scrape)
    {
        var families = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match match in TypeLine().Matches(scrape))
        {
            var name = match.Groups["name"].Value;
            var type = match.Groups["type"].Value;
            if (type == "counter" && !name.EndsWith("_total", StringComparison.Ordinal))
            {
                name += "_total";
            }
            Assert.True(families.TryAdd(name, type), $"{name} has two # TYPE lines");
        }
        Assert.NotEmpty(families);
        return families;
    }

    [GeneratedRegex(@"^# TYPE (?<name>\S+) (?<type>\S+)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();

    private static Span Timed(Span span, ulong start)
    {
        span.StartTimeUnixNano = start;
        span.EndTimeUnixNano = start + 1_000_000_000;
        return span;
    }

    private static Span.Types.Event Evaluation(ulong time, string name, double score) => new()
    {
        Name = GenAiEvents.EvaluationResult,
        TimeUnixNano = time + 500_000_000,
        Attributes =
        {
            new KeyValue { Key = GenAiAttributes.EvaluationName, Value = new AnyValue { StringValue = name } },
            new KeyValue { Key = GenAiAttributes.EvaluationScoreValue, Value = new AnyValue { DoubleValue = score } },
        },
    };

    private sealed class TestMeterFactory : IMeterFactory
    {
        private readonly List<Meter> meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            meters.Add(meter);
            return meter;
        }

        public bool Created(Meter meter) => meters.Contains(meter);

        public void Dispose()
        {
            foreach (var meter in meters)
            {
                meter.Dispose();
            }
        }
    }
}
