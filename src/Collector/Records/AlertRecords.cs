namespace PerfOtel.Collector.Records;

/// <summary>
/// One threshold breach as the alert history keeps it: from the evaluation that first saw it (<see cref="ActiveSince"/>)
/// to the first that no longer did (<see cref="ResolvedAt"/>, null while it lasts). <see cref="Id"/> is derived from
/// tenant, agent, window, metric, level and <see cref="ActiveSince"/>, so the same breach keeps the same id, also
/// across restarts, and a later breach of the same threshold gets a new one.
/// </summary>
public sealed record AlertRecord(
    string Id,
    string Tenant,
    string Agent,
    string Window,
    string Metric,
    string Level,
    double Value,
    double Threshold,
    string Comparison,
    string Message,
    string Recommendation,
    DateTimeOffset ActiveSince,
    DateTimeOffset? ResolvedAt);

/// <summary>Which stored alerts to read: one tenant's, optionally filtered; newest first.</summary>
public sealed record AlertQuery
{
    public required string Tenant { get; init; }

    /// <summary>True: alerts still open (no resolution); false: resolved alerts only.</summary>
    public bool Open { get; init; }

    /// <summary>Resolved alerts resolved at or after this time (ignored for open alerts).</summary>
    public DateTimeOffset? ResolvedSince { get; init; }
    public string? Agent { get; init; }
    public string? Metric { get; init; }
    public string? Level { get; init; }
    public int Limit { get; init; } = 100;
}

/// <summary>
/// The alert history in the store, beside the records (both stores implement it). Retention deletes resolved alerts
/// like the other tables, by their resolution time; open alerts stay while they last.
/// </summary>
public interface IAlertHistoryStore
{
    /// <summary>Inserts the alerts, or updates value, threshold, message and resolution of those already stored (same tenant and id).</summary>
    Task SaveAlertsAsync(IReadOnlyList<AlertRecord> alerts, CancellationToken cancellationToken);

    /// <summary>Alerts of one tenant, newest first (by resolution for resolved alerts, by start for open ones).</summary>
    IAsyncEnumerable<AlertRecord> ReadAlertsAsync(AlertQuery query, CancellationToken cancellationToken);

    /// <summary>Every open alert of every tenant (what the tracker resumes after a restart).</summary>
    IAsyncEnumerable<AlertRecord> ReadOpenAlertsAsync(CancellationToken cancellationToken);
}
