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

        Assert.Equal(3, Sum(CollectorMetrics.SpansReceivedName));
        Assert.Equal(2, Sum(CollectorMetrics.SpansAcceptedName));
        Assert.Equal(1, Sum(CollectorMetrics.SpansRejectedName, t => (string?)t[CollectorMetrics.ReasonAttribute] == RejectReasons.Invalid));
        Assert.Equal(1, Sum(CollectorMetrics.RequestsName, t => (string?)t[CollectorMetrics.SignalAttribute] == "traces" && (int?)t[CollectorMetrics.StatusCodeAttribute] == 200));
        Assert.Equal(1, Sum(CollectorMetrics.RequestsName, t => (int?)t[CollectorMetrics.StatusCodeAttribute] == 415));
        Assert.Equal(2, Sum(CollectorMetrics.RecordsCommittedName));
        Assert.Equal(0, Sum(CollectorMetrics.RecordsDuplicateName));
        Assert.Single(measurements, m => m.Name == CollectorMetrics.StoreWriteDurationName && (string?)m.Tags[CollectorMetrics.ResultAttribute] == "committed");
        Assert.Contains(measurements, m => m.Name == CollectorMetrics.QueueRecordsName && m.Value == 0);
        Assert.Contains(measurements, m => m.Name == CollectorMetrics.QueueBytesName);

        // An exporter's retry of the same spans is acknowledged and counted as duplicates, not as new records.
        using (var retry = await client.PostAsync("/v1/traces", Protobuf(Traces([good, alsoGood]))))
        {
            Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        }
        Assert.Equal(2, Sum(CollectorMetrics.RecordsCommittedName));
        Assert.Equal(2, Sum(CollectorMetrics.RecordsDuplicateName));
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
