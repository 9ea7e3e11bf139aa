namespace PerfOtel.Instrumentation.Conventions;

/// <summary>
/// The metrics of the OpenTelemetry process or runtime instrumentation (<c>process.*</c> from
/// OpenTelemetry.Instrumentation.Process, <c>dotnet.*</c> from the runtime) that <c>AddPerfOtelProcessMetrics()</c> turns on and that the rules and the agent
/// dashboard use. They describe the process, not an agent: they carry no tenant or agent attribute and join the
/// agents' series by scrape target (<c>job</c>, <c>instance</c>) through the process's resource, exposed as
/// <see cref="TargetInfo"/>: <c>service.name</c> names the agent (or the process hosting several), <c>perfotel.tenant</c>
/// its tenant (docs/thresholds-and-alerts.md, "Agent processes").
/// </summary>
public static class ProcessMetricCatalog
{
    /// <summary>Attribute of <see cref="CpuTime"/>: <c>user</c> or <c>system</c>.</summary>
    public const string CpuModeAttribute = "cpu.mode";

    /// <summary>Resource attribute naming the service: the rules' <c>agent</c> label of a process's series.</summary>
    public const string ServiceNameAttribute = "service.name";

    /// <summary><c>process.memory.usage</c>: the process's physical memory (working set).</summary>
    public static readonly MetricDefinition MemoryUsage = new("process.memory.usage", MetricInstrumentKind.Gauge, "long", "By",
        "Physical memory in use by the agent process (working set).", "process_memory_usage_bytes", [], null);

    /// <summary><c>process.cpu.time</c>: CPU seconds the process used, by mode.</summary>
    public static readonly MetricDefinition CpuTime = new("process.cpu.time", MetricInstrumentKind.Counter, "double", "s",
        "CPU time used by the agent process, by mode (user, system).", "process_cpu_time_seconds_total", [CpuModeAttribute], null);

    /// <summary><c>dotnet.process.cpu.count</c> (the runtime's System.Runtime meter): processors available to the process.</summary>
    public static readonly MetricDefinition CpuCount = new("dotnet.process.cpu.count", MetricInstrumentKind.Gauge, "long", "{cpu}",
        "Processors available to the agent process (the .NET runtime's own metric).", "dotnet_process_cpu_count", [], null);

    /// <summary>
    /// The process's resource as a Prometheus exporter exposes it (PerfOtel.Exporter's <c>target_info</c>): the
    /// attributes the rules join on. Not an instrument.
    /// </summary>
    public static readonly MetricDefinition TargetInfo = new("target_info", MetricInstrumentKind.Gauge, "long", "",
        "The process's resource attributes (one series per scrape target).", "target_info",
        [ServiceNameAttribute, PerfOtelAttributes.Tenant], null);

    /// <summary>Every metric of this catalog.</summary>
    public static IReadOnlyList<MetricDefinition> All { get; } = [MemoryUsage, CpuTime, CpuCount, TargetInfo];
}
