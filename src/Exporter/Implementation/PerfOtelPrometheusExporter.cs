using OpenTelemetry;
using OpenTelemetry.Metrics;
using PerfOtel.Exporter.Implementation.Scraping;
using PerfOtel.Exporter.Implementation.Serialization;

namespace PerfOtel.Exporter.Implementation;

/// <summary>
/// The pull exporter: the SDK's reader hands it a <see cref="IPullMetricExporter.Collect"/> function; a scrape calls
/// it, and the batch the SDK then exports is serialised straight into the scrape's buffer.
/// </summary>
[ExportModes(ExportModes.Pull)]
internal sealed class PerfOtelPrometheusExporter : BaseExporter<Metric>, IPullMetricExporter
{
    private const int CollectionTimeoutMilliseconds = 30_000;
    private static readonly List<WeakReference<PerfOtelPrometheusExporter>> Instances = [];

    private readonly ExpositionSerializer serializer;
    private ExpositionBuffer? pendingBuffer;
    private ExpositionFormat pendingFormat;
    private bool pendingWritten;
    private TargetInfo? targetInfo;
    private bool targetInfoResolved;

    public PerfOtelPrometheusExporter(PerfOtelPrometheusExporterOptions options)
    {
        Options = new PerfOtelPrometheusExporterOptions();
        options.CopyTo(Options);
        serializer = new ExpositionSerializer(Options.AddTotalSuffixToCounters, Options.EmitScopeLabels, Options.MaxSeries, [.. Options.Producers],
            Options.EmitCreatedSeries);
        Scrapes = new ScrapeCoordinator(CollectInto, Options.ScrapeResponseCacheDuration);
        lock (Instances)
        {
            Instances.RemoveAll(reference => !reference.TryGetTarget(out _));
            Instances.Add(new WeakReference<PerfOtelPrometheusExporter>(this));
        }
    }

    /// <inheritdoc />
    public Func<int, bool>? Collect { get; set; }

    public PerfOtelPrometheusExporterOptions Options { get; }

    public ScrapeCoordinator Scrapes { get; }

    /// <summary>A server (the standalone listener) whose lifetime ends with this exporter's.</summary>
    public IDisposable? OwnedServer { get; set; }

    /// <summary>Series left out of the last scrape because of MaxSeries.</summary>
    public int LastDroppedSeries => serializer.DroppedSeries;

    /// <summary>Finds the exporter registered on a built MeterProvider (the SDK gives no public way to ask it).</summary>
    public static PerfOtelPrometheusExporter? FindFor(MeterProvider meterProvider)
    {
        lock (Instances)
        {
            foreach (var reference in Instances)
            {
                if (reference.TryGetTarget(out var exporter) && ReferenceEquals(exporter.ParentProvider, meterProvider))
                {
                    return exporter;
                }
            }
        }

        return null;
    }

    public override ExportResult Export(in Batch<Metric> batch)
    {
        // A ForceFlush on the provider also reaches a pull exporter; with no scrape waiting there is nothing to do.
        if (pendingBuffer is null)
        {
            return ExportResult.Success;
        }

        if (!targetInfoResolved && Options.EmitTargetInfo && ParentProvider is not null)
        {
            targetInfo = TargetInfo.Create(ParentProvider.GetResource().Attributes);
            targetInfoResolved = true;
        }

        serializer.Write(pendingBuffer, batch, pendingFormat, Options.EmitTargetInfo ? targetInfo : null);
        pendingWritten = true;
        return ExportResult.Success;
    }

    // Called by the coordinator with its collection gate held, so one collection runs at a time.
    private bool CollectInto(ExpositionFormat format, ExpositionBuffer buffer)
    {
        var collect = Collect ?? throw new InvalidOperationException(
            "The exporter is not attached to a built MeterProvider yet.");
        pendingBuffer = buffer;
        pendingFormat = format;
        pendingWritten = false;
        try
        {
            var collected = collect(CollectionTimeoutMilliseconds) && pendingWritten;
            if (!collected)
            {
                PerfOtelExporterEventSource.Log.CollectionFailed();
            }

            return collected;
        }
        finally
        {
            pendingBuffer = null;
        }
    }

    protected override bool OnShutdown(int timeoutMilliseconds)
    {
        OwnedServer?.Dispose();
        Scrapes.Dispose();
        return base.OnShutdown(timeoutMilliseconds);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            OwnedServer?.Dispose();
            Scrapes.Dispose();
            lock (Instances)
            {
                Instances.RemoveAll(reference => !reference.TryGetTarget(out var exporter) || ReferenceEquals(exporter, this));
            }
        }

        base.Dispose(disposing);
    }
}
