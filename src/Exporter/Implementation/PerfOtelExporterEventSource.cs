using System.Diagnostics.Tracing;

namespace PerfOtel.Exporter.Implementation;

/// <summary>
/// Self-diagnostics of the exporter. Listen with <c>dotnet-trace</c> or an EventListener on "PerfOtel-Exporter".
/// Event ids are sequential and never reused; a test pins them.
/// </summary>
[EventSource(Name = "PerfOtel-Exporter")]
internal sealed class PerfOtelExporterEventSource : EventSource
{
    public static readonly PerfOtelExporterEventSource Log = new();

    [Event(1, Level = EventLevel.Warning,
        Message = "Metric '{1}' of meter '{2}' dropped: Prometheus family '{0}' already has another TYPE ({3}).")]
    public void ConflictingTypeDropped(string family, string metricName, string meterName, string keptType) =>
        WriteEvent(1, family, metricName, meterName, keptType);

    [Event(2, Level = EventLevel.Informational,
        Message = "Prometheus family '{0}' merges metrics with different HELP or UNIT; kept those of '{1}'.")]
    public void ConflictingMetadataMerged(string family, string keptMetricName) => WriteEvent(2, family, keptMetricName);

    [Event(3, Level = EventLevel.Warning,
        Message = "Scrape truncated: more than {0} series (MaxSeries). Raise the limit or lower the cardinality.")]
    public void SeriesLimitReached(int maxSeries) => WriteEvent(3, maxSeries);

    [Event(4, Level = EventLevel.Error, Message = "Metric collection for a scrape failed or timed out.")]
    public void CollectionFailed() => WriteEvent(4);

    [Event(5, Level = EventLevel.Error, Message = "Serving a scrape failed: {0}")]
    public void ScrapeFailed(string error) => WriteEvent(5, error);

    [Event(6, Level = EventLevel.Error, Message = "The Prometheus HTTP listener stopped on an error: {0}")]
    public void ListenerFailed(string error) => WriteEvent(6, error);

    [Event(7, Level = EventLevel.Warning,
        Message = "Attribute '{1}' of metric '{0}' dropped: its label name is one the exporter writes itself.")]
    public void ReservedLabelDropped(string metricName, string attributeKey) => WriteEvent(7, metricName, attributeKey);

    [Event(8, Level = EventLevel.Warning,
        Message = "Producer family '{0}' dropped: the scrape already has a family of that name.")]
    public void ProducerFamilyDropped(string family) => WriteEvent(8, family);

    [Event(9, Level = EventLevel.Error, Message = "A metric producer failed; its families are left out of this scrape: {0}")]
    public void ProducerFailed(string error) => WriteEvent(9, error);
}
