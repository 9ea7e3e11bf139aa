namespace PerfOtel.Collector.Security;

/// <summary><c>Metrics:Port</c>: when set, /metrics is served only on this port (a second listener on the same host).</summary>
public sealed class MetricsListenerOptions
{
    public const string SectionName = "Metrics";

    public int? Port { get; set; }
}
