using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace PerfOtel.Collector.Receiving;

/// <summary>
/// Requests and items the collector refused (undecodable bodies, wrong media types, oversize, throttling, invalid
/// spans in partial_success, refused API keys), logged as one line per interval at most instead of one line per
/// request: a misconfigured exporter sending hundreds of requests a second must not flood the log. Each kind keeps its
/// count and the last reason, so the line still says why. The self-metrics count every rejection as it happens.
/// </summary>
internal sealed partial class RejectionSummary(ILogger<RejectionSummary> logger)
{
    /// <summary>How often <see cref="RejectionSummaryService"/> writes the summary line.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <param name="kind">What was refused and how it was answered, e.g. "/v1/traces 400" or "/v1/traces spans in partial_success".</param>
    /// <param name="reason">Why, as told to the sender.</param>
    /// <param name="count">Requests or items refused.</param>
    public void Note(string kind, string? reason, long count = 1)
    {
        if (count <= 0)
        {
            return;
        }

        var entry = _entries.GetOrAdd(kind, static _ => new Entry());
        Interlocked.Add(ref entry.Count, count);
        if (reason is not null)
        {
            entry.LastReason = reason;
        }
    }

    /// <summary>Writes what was refused since the last call as one line, if anything was; returns whether it wrote.</summary>
    public bool Flush()
    {
        var line = new StringBuilder();
        long total = 0;
        foreach (var kind in _entries.Keys.Order(StringComparer.Ordinal))
        {
            if (!_entries.TryGetValue(kind, out var entry))
            {
                continue;
            }

            var count = Interlocked.Exchange(ref entry.Count, 0);
            if (count == 0)
            {
                continue;
            }

            total += count;
            line.Append(line.Length == 0 ? "" : "; ").Append(CultureInfo.InvariantCulture, $"{kind}: {count}");
            if (entry.LastReason is { } reason)
            {
                line.Append(" (last: ").Append(reason).Append(')');
            }
        }

        if (total == 0)
        {
            return false;
        }

        LogRejected(logger, line.ToString());
        return true;
    }

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Refused since the last summary: {Rejections}")]
    private static partial void LogRejected(ILogger logger, string rejections);

    private sealed class Entry
    {
        public long Count;
        public volatile string? LastReason;
    }
}

/// <summary>Writes the <see cref="RejectionSummary"/> once per interval, and what is left at shutdown.</summary>
internal sealed class RejectionSummaryService(RejectionSummary summary, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RejectionSummary.Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                summary.Flush();
            }
        }
        catch (OperationCanceledException)
        {
        }

        summary.Flush();
    }
}
