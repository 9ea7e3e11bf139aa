namespace PerfOtel.Instrumentation.Conventions;

/// <summary>One metric of the OpenTelemetry process or runtime instrumentation that PerfOtel's rules and dashboards read.</summary>
/// <param name="Name">OpenTelemetry instrument name (<c>process.*</c> from OpenTelemetry.Instrumentation.Process, <c>dotnet.*</c> from the runtime).</param>
/// <param name="Unit">UCUM unit.</param>
/// <param name="Description">What it measures.</param>
/// <param name="PrometheusName">The sample name a Prometheus exporter gives it (PerfOtel.Exporter or OpenTelemetry's).</param>
/// <param name="Attributes">Attribute keys of its points.</param>
public sealed record ProcessMetricDefinition(string Name, string Unit, string Description, string PrometheusName, IReadOnlyList<string> Attributes);

/// <summary>
/// The agent-process metrics that <c>AddPerfOtelProcessMetrics()</c> turns on and that the rules and the agent
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
    public static readonly ProcessMetricDefinition MemoryUsage = new("process.memory.usage", "By",
        "Physical memory in use by the agent process (working set).", "process_memory_usage_bytes", []);

    /// <summary><c>process.cpu.time</c>: CPU seconds the process used, by mode.</summary>
    public static readonly ProcessMetricDefinition CpuTime = new("process.cpu.time", "s",
        "CPU time used by the agent process, by mode (user, system).", "process_cpu_time_seconds_total", [CpuModeAttribute]);

    /// <summary><c>dotnet.process.cpu.count</c> (the runtime's System.Runtime meter): processors available to the process.</summary>
    public static readonly ProcessMetricDefinition CpuCount = new("dotnet.process.cpu.count", "{cpu}",
        "Processors available to the agent process (the .NET runtime's own metric).", "dotnet_process_cpu_count", []);

    /// <summary>
    /// The process's resource as a Prometheus exporter exposes it (PerfOtel.Exporter's <c>target_info</c>): the
    /// attributes the rules join on. Not an instrument.
    /// </summary>
    public static readonly ProcessMetricDefinition TargetInfo = new("target_info", "",
        "The process's resource attributes (one series per scrape target).", "target_info",
        [ServiceNameAttribute, PerfOtelAttributes.Tenant]);

    /// <summary>Every metric of this catalog.</summary>
    public static IReadOnlyList<ProcessMetricDefinition> All { get; } = [MemoryUsage, CpuTime, CpuCount, TargetInfo];
}
