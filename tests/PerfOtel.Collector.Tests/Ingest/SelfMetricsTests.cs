using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Tests.Ingest;

/// <summary>The collector's own metrics report what the receiver did.</summary>
public sealed class SelfMetricsTests
{
    [Fact]
    public async Task ReceivedAcceptedRejectedRequestsAndStoreWrites_AreCounted()
    {
        await using var collector = new CollectorFactory();
        using var client = collector.CreateClient();
        var meter = collector.Services.GetRequiredService<CollectorMetrics>().Meter;
        var measurements = new ConcurrentQueue<(string Name, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => measurements.Enqueue((i.Name, v, Tags(tags))));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => measurements.Enqueue((i.Name, v, Tags(tags))));
        listener.Start();

        var good = Span("invoke_agent a", TraceId(1), SpanId(1), attributes: [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent)]);
        var alsoGood = Span("chat m", TraceId(1), SpanId(2), SpanId(1));
        var bad = Span("chat m", ByteString.CopyFrom(1, 2), SpanId(3));
        using var response = await client.PostAsync("/v1/traces", Protobuf(Traces([good, alsoGood, bad])));
        using var refused = await client.PostAsync("/v1/traces", Content([1, 2, 3], "text/plain"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        listener.RecordObservableInstruments();

        double Sum(string name, Func<Dictionary<string, object?>, bool>? where = null) =>
            measurements.Where(m => m.Name == name && (where is null || where(m.Tags))).Sum(m => m.Value);

        Assert.Equal(3, Sum(SelfMetricCatalog.SpansReceived.Name));
        Assert.Equal(2, Sum(SelfMetricCatalog.SpansAccepted.Name));
        Assert.Equal(1, Sum(SelfMetricCatalog.SpansRejected.Name, t => (string?)t[SelfMetricCatalog.ReasonAttribute] == RejectReasons.Invalid));
        Assert.Equal(1, Sum(SelfMetricCatalog.Requests.Name, t => (string?)t[SelfMetricCatalog.SignalAttribute] == "traces" && (int?)t[SelfMetricCatalog.StatusCodeAttribute] == 200));
        Assert.Equal(1, Sum(SelfMetricCatalog.Requests.Name, t => (int?)t[SelfMetricCatalog.StatusCodeAttribute] == 415));
        Assert.Equal(2, Sum(SelfMetricCatalog.RecordsCommitted.Name));
        Assert.Equal(0, Sum(SelfMetricCatalog.RecordsDuplicate.Name));
        Assert.Single(measurements, m => m.Name == SelfMetricCatalog.StoreWriteDuration.Name && (string?)m.Tags[SelfMetricCatalog.ResultAttribute] == "committed");
        Assert.Contains(measurements, m => m.Name == SelfMetricCatalog.QueueRecords.Name && m.Value == 0);
        Assert.Contains(measurements, m => m.Name == SelfMetricCatalog.QueueBytes.Name);

        // An exporter's retry of the same spans is acknowledged and counted as duplicates, not as new records.
        using (var retry = await client.PostAsync("/v1/traces", Protobuf(Traces([good, alsoGood]))))
        {
            Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        }
        Assert.Equal(2, Sum(SelfMetricCatalog.RecordsCommitted.Name));
        Assert.Equal(2, Sum(SelfMetricCatalog.RecordsDuplicate.Name));
    }

    private static Dictionary<string, object?> Tags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            result[tag.Key] = tag.Value;
        }

        return result;
    }
}
