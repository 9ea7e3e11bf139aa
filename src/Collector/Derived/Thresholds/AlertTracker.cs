using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Thresholds;

/// <summary>
/// Turns the threshold breaches of every tenant's agents, in every window, into alerts with a lifetime: a breach not
/// seen at the previous evaluation opens an alert (<see cref="AlertRecord.ActiveSince"/> = now, a new id), one that
/// is no longer seen is resolved (<see cref="AlertRecord.ResolvedAt"/> = now). Openings and resolutions are written to
/// the store's alert history when the store keeps one; at start-up the open alerts are read back, so ids and start
/// times survive a restart. Evaluations run on a timer (<see cref="Interval"/>) and before every read of the alerts API.
/// </summary>
internal sealed class AlertTracker(RollingWindows windows, IAlertHistoryStore? history, ILogger<AlertTracker> logger)
{
    /// <summary>How often the background evaluation runs.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly Dictionary<(string Tenant, string Agent, string Window, string Metric, string Level), AlertRecord> open = new();
    private bool resumed;

    /// <summary>The views the open alerts were last evaluated from (null: evaluate again), and the answers given since.</summary>
    private List<TenantView>? evaluatedViews;
    private readonly Dictionary<string, IReadOnlyList<AlertRecord>> answers = new(StringComparer.Ordinal);

    /// <summary>The store's alert history; null with a store that keeps none (then only open alerts are known).</summary>
    public IAlertHistoryStore? History => history;

    /// <summary>The alert id of a breach that started at <paramref name="activeSince"/>: 16 hex digits of a SHA-256.</summary>
    public static string IdOf(string tenant, string agent, string window, string metric, string level, DateTimeOffset activeSince)
    {
        var key = string.Join('\u001f', tenant, agent, window, metric, level,
            activeSince.UtcTicks.ToString(CultureInfo.InvariantCulture));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)).AsSpan(0, 8));
    }

    /// <summary>Evaluates every tenant now; returns the open alerts of <paramref name="tenant"/> (all tenants when null).</summary>
    public async Task<IReadOnlyList<AlertRecord>> EvaluateAsync(string? tenant, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!resumed)
            {
                await ResumeAsync(cancellationToken).ConfigureAwait(false);
                resumed = true;
            }

            var now = windows.Now;
            // Every tenant's view of every window: the same views as at the last evaluation mean the same breaches, so
            // the open alerts are those of that evaluation (nothing opened, nothing resolved, no value moved).
            var views = new List<TenantView>();
            foreach (var name in windows.Tenants())
            {
                for (var w = 0; w < windows.Windows.Count; w++)
                {
                    views.Add(windows.View(name, w));
                }
            }
            if (evaluatedViews is not null && evaluatedViews.Count == views.Count
                && evaluatedViews.Zip(views).All(pair => ReferenceEquals(pair.First, pair.Second)))
            {
                return Answer(tenant);
            }

            var seen = new HashSet<(string, string, string, string, string)>();
            var changes = new List<AlertRecord>();
            foreach (var view in views)
            {
                foreach (var breach in view.Breaches)
                {
                    var key = (breach.Tenant, breach.Agent, breach.Window, breach.Metric, breach.Level);
                    seen.Add(key);
                    if (open.TryGetValue(key, out var existing))
                    {
                        open[key] = existing with
                        {
                            Value = breach.Value, Threshold = breach.Threshold, Message = breach.Message,
                            Comparison = breach.Comparison, Recommendation = breach.Recommendation,
                        };
                    }
                    else
                    {
                        var opened = new AlertRecord(IdOf(breach.Tenant, breach.Agent, breach.Window, breach.Metric, breach.Level, now),
                            breach.Tenant, breach.Agent, breach.Window, breach.Metric, breach.Level, breach.Value,
                            breach.Threshold, breach.Comparison, breach.Message, breach.Recommendation, now, null);
                        open[key] = opened;
                        changes.Add(opened);
                    }
                }
            }

            foreach (var key in open.Keys.Where(k => !seen.Contains(k)).ToList())
            {
                changes.Add(open[key] with { ResolvedAt = now });
                open.Remove(key);
            }
            answers.Clear();
            evaluatedViews = null;

            if (history is not null && changes.Count > 0)
            {
                await history.SaveAlertsAsync(changes, cancellationToken).ConfigureAwait(false);
            }

            evaluatedViews = views;
            return Answer(tenant);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The open alerts of a tenant (all tenants when null); the same list until an evaluation changes them.</summary>
    private IReadOnlyList<AlertRecord> Answer(string? tenant)
    {
        var key = tenant is null ? "\u0000all" : "=" + tenant;
        if (!answers.TryGetValue(key, out var answer))
        {
            answer = open.Values.Where(a => tenant is null || a.Tenant == tenant).ToList().AsReadOnly();
            // Tenants without data get no entry kept: any name a caller asks for must leave no state behind.
            if (tenant is null || windows.Tenants().Contains(tenant, StringComparer.Ordinal))
            {
                answers[key] = answer;
            }
        }
        return answer;
    }

    private async Task ResumeAsync(CancellationToken cancellationToken)
    {
        if (history is null)
        {
            return;
        }
        var count = 0;
        await foreach (var alert in history.ReadOpenAlertsAsync(cancellationToken).ConfigureAwait(false))
        {
            open[(alert.Tenant, alert.Agent, alert.Window, alert.Metric, alert.Level)] = alert;
            count++;
        }
        if (count > 0)
        {
            logger.LogInformation("Resumed {Count} open alerts from the alert history", count);
        }
    }
}

/// <summary>Runs <see cref="AlertTracker"/> every <see cref="AlertTracker.Interval"/> on the injected clock.</summary>
internal sealed class AlertTrackerService(AlertTracker tracker, TimeProvider clock, ILogger<AlertTrackerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(AlertTracker.Interval, clock);
        do
        {
            try
            {
                await tracker.EvaluateAsync(null, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Alert evaluation failed; it is retried at the next interval");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
