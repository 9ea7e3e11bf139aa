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

    [Fact]
    public async Task EachPhaseOfATraceExport_IsRecordedOnce_AndThePhasesAddUpToNoMoreThanTheRequest()
    {
        await using var collector = new CollectorFactory();
        using var client = collector.CreateClient();
        var meter = collector.Services.GetRequiredService<CollectorMetrics>().Meter;
        var phases = new ConcurrentQueue<(string Phase, double Seconds)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == SelfMetricCatalog.IngestPhaseDuration.Name)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, v, tags, _) => phases.Enqueue(((string)Tags(tags)[SelfMetricCatalog.PhaseAttribute]!, v)));
        listener.Start();

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using (var response = await client.PostAsync("/v1/traces", Protobuf(Traces([Span("chat m", TraceId(7), SpanId(1))]))))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        // The handler records its last phase once the response is written, which the client may see first.
        await WaitUntilAsync(() => phases.Count >= 7);
        var took = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;

        string[] expected = [IngestPhase.Receive, IngestPhase.Decode, IngestPhase.Queue, IngestPhase.Write, IngestPhase.Durable,
            IngestPhase.Apply, IngestPhase.Answer];
        Assert.Equal(expected.Order(StringComparer.Ordinal), phases.Select(p => p.Phase).Order(StringComparer.Ordinal));
        Assert.All(phases, p => Assert.True(p.Seconds >= 0, $"{p.Phase}: {p.Seconds}"));
        // Consecutive and disjoint: together no longer than the request (and the wait for its last phase).
        Assert.True(phases.Sum(p => p.Seconds) <= took, $"phases {phases.Sum(p => p.Seconds)} s, request {took} s");
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
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
