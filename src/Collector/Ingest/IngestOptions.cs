using Microsoft.Extensions.Options;

namespace PerfOtel.Collector.Ingest;

/// <summary>Configuration section <c>Ingest</c>: the queue between the OTLP handlers and the store writer.</summary>
public sealed class IngestOptions
{
    public const string SectionName = "Ingest";

    /// <summary>Records (invocations, calls, evaluations) that may wait for the writer before senders get 429.</summary>
    public int QueueCapacityRecords { get; set; } = 100_000;

    /// <summary>Estimated bytes those records may hold before senders get 429: bounds memory under a flood.</summary>
    public long QueueCapacityBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>Largest number of records the writer commits in one store transaction (several requests coalesce).</summary>
    public int MaxWriteBatchRecords { get; set; } = 10_000;

    /// <summary>Seconds announced in <c>Retry-After</c> when the queue is full, the store failed or the collector stops.</summary>
    public int RetryAfterSeconds { get; set; } = 2;

    /// <summary>
    /// How long a provider call, tool call or evaluation waits for the spans between it and its invoke_agent ancestor
    /// when they come in other requests (docs/architecture.md, "Attribution"): within it the record is counted once, on
    /// its agent, when the ancestry is complete; after it, without an agent (and a later ancestor counts as late).
    /// </summary>
    public TimeSpan AttributionHorizon { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Most span links (a span's parent and agent, about 170 bytes each) the attribution keeps to attribute calls that
    /// come in later requests. Links are kept two horizons; at a high span rate this bound is reached first and the
    /// oldest commits' links are evicted (counted on <c>perfotel_collector_attribution_links_evicted_total</c>): a call
    /// arriving later under an evicted span waits its horizon and is counted without an agent. Links of held records are
    /// never evicted.
    /// </summary>
    public int AttributionMaxLinks { get; set; } = Derived.Kernel.SpanAttribution.DefaultLinkCapacity;

    /// <summary>
    /// How often the malloc arenas' free pages are handed back to the kernel (glibc's <c>malloc_trim</c>; Linux with
    /// glibc only). Zero turns it off. SQLite and the runtime free native blocks in the middle of an arena, which glibc
    /// otherwise keeps resident (docs/collector/otlp-ingest.md, "Memory under sustained load").
    /// </summary>
    public TimeSpan NativeMemoryTrimInterval { get; set; } = DefaultNativeMemoryTrimInterval;

    /// <summary>Default of <see cref="NativeMemoryTrimInterval"/>: every 2 s rather than 10 s kept glibc's heap about 13 MB
    /// smaller under sustained ingest at no CPU per span shown (docs/collector/ingest-performance.md, "Under 250 MB").</summary>
    public static readonly TimeSpan DefaultNativeMemoryTrimInterval = TimeSpan.FromSeconds(2);

    /// <summary>Longest <see cref="NativeMemoryTrimInterval"/> accepted.</summary>
    public static readonly TimeSpan MaxNativeMemoryTrimInterval = TimeSpan.FromHours(1);

    /// <summary>Longest horizon accepted: links are kept two horizons, and held records are memory.</summary>
    public static readonly TimeSpan MaxAttributionHorizon = TimeSpan.FromHours(24);
}

internal sealed class IngestOptionsValidator : IValidateOptions<IngestOptions>
{
    public ValidateOptionsResult Validate(string? name, IngestOptions options)
    {
        var failures = new List<string>();
        if (options.QueueCapacityRecords < 1)
        {
            failures.Add($"Ingest:QueueCapacityRecords must be at least 1 (was {options.QueueCapacityRecords}).");
        }

        if (options.QueueCapacityBytes < 1024 * 1024)
        {
            failures.Add($"Ingest:QueueCapacityBytes must be at least 1048576 (1 MiB) (was {options.QueueCapacityBytes}).");
        }

        if (options.MaxWriteBatchRecords < 1)
        {
            failures.Add($"Ingest:MaxWriteBatchRecords must be at least 1 (was {options.MaxWriteBatchRecords}).");
        }

        if (options.RetryAfterSeconds is < 1 or > 3600)
        {
            failures.Add($"Ingest:RetryAfterSeconds must be between 1 and 3600 (was {options.RetryAfterSeconds}).");
        }

        if (options.AttributionHorizon <= TimeSpan.Zero || options.AttributionHorizon > IngestOptions.MaxAttributionHorizon)
        {
            failures.Add($"Ingest:AttributionHorizon must be more than 00:00:00 and at most 1.00:00:00 (24 hours) (was {options.AttributionHorizon}).");
        }

        if (options.AttributionMaxLinks < 1000)
        {
            failures.Add($"Ingest:AttributionMaxLinks must be at least 1000 (was {options.AttributionMaxLinks}).");
        }

        if (options.NativeMemoryTrimInterval != TimeSpan.Zero
            && (options.NativeMemoryTrimInterval < TimeSpan.FromSeconds(1) || options.NativeMemoryTrimInterval > IngestOptions.MaxNativeMemoryTrimInterval))
        {
            failures.Add($"Ingest:NativeMemoryTrimInterval must be 00:00:00 (off) or between 00:00:01 and 01:00:00 (was {options.NativeMemoryTrimInterval}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
