using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace PerfOtel.Testing;

/// <summary>Collects finished activities exported by a real TracerProvider.</summary>
public sealed class InMemoryActivities : BaseExporter<Activity>
{
    private readonly ConcurrentQueue<Activity> finished = new();

    /// <summary>Adds this exporter to a TracerProviderBuilder through a simple (synchronous) processor.</summary>
    public TracerProviderBuilder Attach(TracerProviderBuilder builder) =>
        builder.AddProcessor(new SimpleActivityExportProcessor(this));

    /// <summary>The activities exported so far, in end order.</summary>
    public IReadOnlyList<Activity> Finished => finished.ToArray();

    public override ExportResult Export(in Batch<Activity> batch)
    {
        foreach (var activity in batch)
        {
            finished.Enqueue(activity);
        }
        return ExportResult.Success;
    }
}
