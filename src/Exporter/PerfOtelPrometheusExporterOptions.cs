namespace PerfOtel.Exporter;

/// <summary>Options of the PerfOtel Prometheus / OpenMetrics pull exporter.</summary>
public class PerfOtelPrometheusExporterOptions
{
    private TimeSpan scrapeResponseCacheDuration = TimeSpan.FromMilliseconds(300);
    private int maxSeries = 200_000;
    private string scrapeEndpointPath = "/metrics";

    /// <summary>
    /// Path of the scrape endpoint when the endpoint is mapped without an explicit path. Default <c>/metrics</c>.
    /// </summary>
    public string ScrapeEndpointPath
    {
        get => scrapeEndpointPath;
        set
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(value);
            scrapeEndpointPath = value.StartsWith('/') ? value : "/" + value;
        }
    }

    /// <summary>
    /// How long a serialised scrape is reused for further scrapes in the same format. Default 300 ms;
    /// <see cref="TimeSpan.Zero"/> collects on every scrape (concurrent scrapes still share one collection).
    /// </summary>
    public TimeSpan ScrapeResponseCacheDuration
    {
        get => scrapeResponseCacheDuration;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            scrapeResponseCacheDuration = value;
        }
    }

    /// <summary>Whether the resource is exposed as a <c>target_info</c> metric. Default true.</summary>
    public bool EmitTargetInfo { get; set; } = true;

    /// <summary>
    /// Whether every series carries its instrumentation scope as labels (<c>otel_scope_name</c>,
    /// <c>otel_scope_version</c>, <c>otel_scope_schema_url</c>, <c>otel_scope_[attribute]</c>), as the compatibility
    /// specification requires by default. Default true.
    /// </summary>
    public bool EmitScopeLabels { get; set; } = true;

    /// <summary>
    /// Whether OpenMetrics scrapes carry a <c>_created</c> sample (the series' start time) for every counter and
    /// histogram series, as OpenMetrics 1.0 recommends and Prometheus reads for created-timestamp zero injection.
    /// It adds one line per counter and histogram series; turn it off to keep scrapes smaller. The text format 0.0.4 has
    /// no <c>_created</c>. Default true.
    /// </summary>
    public bool EmitCreatedSeries { get; set; } = true;

    /// <summary>Whether monotonic sums get the <c>_total</c> suffix (the specification's default). Default true.</summary>
    public bool AddTotalSuffixToCounters { get; set; } = true;

    /// <summary>
    /// Whether OpenMetrics 1.0 is offered to scrapers that ask for it. When false every scrape is answered in the
    /// Prometheus text format 0.0.4 (and exemplars are not exposed). Default true.
    /// </summary>
    public bool EnableOpenMetrics { get; set; } = true;

    /// <summary>
    /// Upper bound on the series (metric points) of one scrape, which bounds the exporter's memory. Points beyond it are
    /// left out of the scrape and reported once through the exporter's EventSource. Default 200 000.
    /// </summary>
    public int MaxSeries
    {
        get => maxSeries;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            maxSeries = value;
        }
    }

    /// <summary>
    /// Sources of gauge families written into every scrape after the MeterProvider's metrics (see
    /// <see cref="IPrometheusMetricProducer"/>). Taken when the exporter is built; later changes have no effect.
    /// </summary>
    public IList<IPrometheusMetricProducer> Producers { get; } = new List<IPrometheusMetricProducer>();

    internal void CopyTo(PerfOtelPrometheusExporterOptions target)
    {
        foreach (var producer in Producers)
        {
            target.Producers.Add(producer);
        }

        target.ScrapeEndpointPath = ScrapeEndpointPath;
        target.ScrapeResponseCacheDuration = ScrapeResponseCacheDuration;
        target.EmitTargetInfo = EmitTargetInfo;
        target.EmitScopeLabels = EmitScopeLabels;
        target.EmitCreatedSeries = EmitCreatedSeries;
        target.AddTotalSuffixToCounters = AddTotalSuffixToCounters;
        target.EnableOpenMetrics = EnableOpenMetrics;
        target.MaxSeries = MaxSeries;
    }
}

/// <summary>Options of the standalone HTTP listener that serves the scrape endpoint without ASP.NET Core.</summary>
public sealed class PerfOtelPrometheusHttpListenerOptions : PerfOtelPrometheusExporterOptions
{
    private IReadOnlyCollection<string> uriPrefixes = ["http://127.0.0.1:9464/"];

    /// <summary>
    /// HttpListener prefixes to listen on, each ending with '/'. Default <c>http://127.0.0.1:9464/</c>: loopback only,
    /// so metrics are not exposed to the network unless asked for.
    /// </summary>
    public IReadOnlyCollection<string> UriPrefixes
    {
        get => uriPrefixes;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Count == 0)
            {
                throw new ArgumentException("At least one URI prefix is required.", nameof(value));
            }

            foreach (var prefix in value)
            {
                if (!prefix.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
                    && !prefix.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
                {
                    throw new ArgumentException($"URI prefix '{prefix}' must start with http:// or https://.", nameof(value));
                }
            }

            uriPrefixes = value;
        }
    }
}
