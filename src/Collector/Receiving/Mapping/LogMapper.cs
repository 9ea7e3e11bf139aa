using System.Buffers.Binary;
using System.Text;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Logs.V1;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>
/// Reads OTLP logs: validates every record and keeps the <c>gen_ai.evaluation.result</c> events as evaluations.
/// Other log records are accepted and not stored.
/// </summary>
internal static class LogMapper
{
    public static MappingResult Map(ExportLogsServiceRequest request, TimeProvider time, string? forcedTenant = null)
    {
        var batch = new IngestBatch();
        var rejections = new RejectionLog();
        var received = 0L;
        var window = PlausibleTime.Window(time);
        foreach (var resourceLogs in request.ResourceLogs)
        {
            var resource = AttributeBag.From(resourceLogs.Resource?.Attributes);
            foreach (var scopeLogs in resourceLogs.ScopeLogs)
            {
                foreach (var record in scopeLogs.LogRecords)
                {
                    received++;
                    if (!record.TraceId.IsEmpty && !OtlpIds.IsValidTraceId(record.TraceId))
                    {
                        rejections.Add("trace_id must be empty or 16 bytes, not all zero");
                        continue;
                    }

                    if (!record.SpanId.IsEmpty && !OtlpIds.IsValidSpanId(record.SpanId))
                    {
                        rejections.Add("span_id must be empty or 8 bytes, not all zero");
                        continue;
                    }

                    var attributes = AttributeBag.From(record.Attributes);
                    var eventName = string.IsNullOrEmpty(record.EventName) ? attributes.String(LegacyGenAiAttributes.EventName) : record.EventName;
                    if (eventName != GenAiEvents.EvaluationResult)
                    {
                        continue;
                    }

                    if (record.TraceId.IsEmpty || record.SpanId.IsEmpty)
                    {
                        rejections.Add("gen_ai.evaluation.result log record needs trace_id and span_id to name the evaluated span");
                        continue;
                    }

                    var timestamp = record.TimeUnixNano != 0 ? record.TimeUnixNano : record.ObservedTimeUnixNano;
                    if (timestamp != 0 && !window.Contains(timestamp))
                    {
                        rejections.Add($"time_unix_nano must be after {PlausibleTime.EarliestText} and at most {PlausibleTime.MaxClockSkewText} ahead of the collector's clock");
                        continue;
                    }

                    var name = attributes.String(GenAiAttributes.EvaluationName) ?? SpanMapper.UnknownName;
                    var score = attributes.Double(GenAiAttributes.EvaluationScoreValue);
                    var label = attributes.String(GenAiAttributes.EvaluationScoreLabel);
                    batch.Evaluations.Add(new EvaluationRecord
                    {
                        Tenant = forcedTenant ?? attributes.String(PerfOtelAttributes.Tenant) ?? resource.String(PerfOtelAttributes.Tenant) ?? SpanMapper.DefaultTenant,
                        TraceId = OtlpIds.Hex(record.TraceId),
                        SpanId = OtlpIds.Hex(record.SpanId),
                        Sequence = Sequence(timestamp, name, score, label),
                        AgentName = attributes.String(GenAiAttributes.AgentName),
                        Name = name,
                        Score = score,
                        Label = label,
                        Time = timestamp != 0 ? OtlpIds.Time(timestamp) : time.GetUtcNow(),
                    });
                }
            }
        }

        return new MappingResult(batch, received, rejections.Count, rejections.Message("log records"));
    }

    /// <summary>
    /// A log record has no position on its span, so its identity is a hash of what it says: the same record sent
    /// twice collides (idempotent), two different evaluations of one span do not. Negative values keep it apart from
    /// span events, whose sequence is their index.
    /// </summary>
    private static int Sequence(ulong timestamp, string name, double? score, string? label)
    {
        var hash = FnvOffset;
        Span<byte> number = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(number, timestamp);
        hash = Fnv(hash, number);
        hash = Fnv(hash, Encoding.UTF8.GetBytes(name));
        BinaryPrimitives.WriteDoubleLittleEndian(number, score ?? double.NaN);
        hash = Fnv(hash, number);
        hash = Fnv(hash, Encoding.UTF8.GetBytes(label ?? string.Empty));
        return (int)(hash | 0x8000_0000u);
    }

    private const uint FnvOffset = 2166136261;

    // FNV-1a: stable across processes and versions, unlike string.GetHashCode.
    private static uint Fnv(uint hash, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 16777619;
        }

        return hash;
    }
}
