using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Coordination;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Exposure.Reports;

/// <summary>
/// Runs every schedule of <c>Reports:Schedules</c>: at each occurrence of its cron expression (in its time zone) it renders
/// the tenant's Markdown report over its window, from the same live windows as <c>GET /api/v1/report</c>, and hands it to
/// <see cref="ReportDelivery"/>. Missed occurrences are not caught up: after a restart, or a delivery that outlasted the
/// next occurrence, the schedule continues with the first occurrence after now (one report, never a burst of stale ones).
/// On replicas sharing PostgreSQL only the derivation leader delivers: the others hold no derived state.
/// </summary>
internal sealed partial class ReportScheduler(
    IOptions<ReportOptions> options, RollingWindows windows, ReportDelivery delivery, IServiceProvider services,
    TimeProvider time, ILogger<ReportScheduler> logger) : BackgroundService
{
    /// <summary>Waits are cut into steps of at most this, so a wall-clock change is noticed within one step.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, Armed> armed = new(StringComparer.Ordinal);

    /// <summary>The occurrence a schedule waits for, and how many waits it has started so far; null before its first.</summary>
    public Armed? Waiting(string schedule) => armed.GetValueOrDefault(schedule);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(options.Value.Schedules.Select(s => RunAsync(s.Key, s.Value, stoppingToken)));

    private async Task RunAsync(string name, ReportSchedule schedule, CancellationToken cancellationToken)
    {
        var expression = schedule.Expression;
        var zone = schedule.Zone;
        var window = windows.WindowIndexOf(schedule.Window);
        var from = time.GetUtcNow();
        long waits = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (expression.GetNextOccurrence(from, zone) is not { } next)
                {
                    LogNoFurtherOccurrence(logger, name);
                    return;
                }
                LogNextRun(logger, name, next);
                for (var remaining = next - time.GetUtcNow(); remaining > TimeSpan.Zero; remaining = next - time.GetUtcNow())
                {
                    // The timer exists before the wait is announced: a clock advanced after the announcement fires it.
                    var wait = Task.Delay(remaining < LongestWait ? remaining : LongestWait, time, cancellationToken);
                    armed[name] = new Armed(next, ++waits);
                    await wait.ConfigureAwait(false);
                }
                try
                {
                    await RunOnceAsync(name, schedule, window, next, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A run's failure must not stop the schedule, nor the host (a faulted BackgroundService stops it).
                    LogRunFailed(logger, ex, name, next);
                }
                // No catch-up: continue after whichever is later, this occurrence or now.
                var now = time.GetUtcNow();
                from = now > next ? now : next;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task RunOnceAsync(string name, ReportSchedule schedule, int window, DateTimeOffset occurrence,
        CancellationToken cancellationToken)
    {
        if (services.GetService<DerivationRole>() is { IsDeriving: false })
        {
            LogNotLeader(logger, name, occurrence);
            return;
        }
        string markdown;
        try
        {
            var (report, experiments) = await ReportAssembly.BuildAsync(windows, services, services.GetService<IExecutionStore>(),
                schedule.Tenant, window, cancellationToken).ConfigureAwait(false);
            markdown = MarkdownReport.Render(report, experiments);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The report could not be rendered (a store read failed): every destination of this run failed.
            LogRenderFailed(logger, ex, name);
            foreach (var destination in Destinations(schedule))
            {
                services.GetService<Telemetry.CollectorMetrics>()?.ReportDelivery(name, destination, ReportResults.Failed);
            }
            return;
        }

        var deliveries = new List<Task>();
        if (!string.IsNullOrWhiteSpace(schedule.Directory))
        {
            delivery.Write(name, schedule.Directory, schedule.Tenant, occurrence, markdown);
        }
        if (!string.IsNullOrWhiteSpace(schedule.WebhookUrl))
        {
            deliveries.Add(delivery.PostAsync(name, new Uri(schedule.WebhookUrl), markdown, cancellationToken));
        }
        await Task.WhenAll(deliveries).ConfigureAwait(false);
    }

    private static IEnumerable<string> Destinations(ReportSchedule schedule)
    {
        if (!string.IsNullOrWhiteSpace(schedule.Directory))
        {
            yield return ReportDestinations.Directory;
        }
        if (!string.IsNullOrWhiteSpace(schedule.WebhookUrl))
        {
            yield return ReportDestinations.Webhook;
        }
    }

    /// <summary>A schedule's pending occurrence and the count of waits started (each step of a long wait is one).</summary>
    public sealed record Armed(DateTimeOffset Occurrence, long Waits);

    [LoggerMessage(EventId = 9010, Level = LogLevel.Information, Message = "Report {Schedule}: next run at {Next:o}.")]
    private static partial void LogNextRun(ILogger logger, string schedule, DateTimeOffset next);

    [LoggerMessage(EventId = 9011, Level = LogLevel.Warning, Message = "Report {Schedule}: its cron expression has no further occurrence; it will not run again.")]
    private static partial void LogNoFurtherOccurrence(ILogger logger, string schedule);

    [LoggerMessage(EventId = 9012, Level = LogLevel.Information, Message = "Report {Schedule}: the run of {Occurrence:o} is left to the derivation leader.")]
    private static partial void LogNotLeader(ILogger logger, string schedule, DateTimeOffset occurrence);

    [LoggerMessage(EventId = 9014, Level = LogLevel.Error, Message = "Report {Schedule}: the run of {Occurrence:o} failed.")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, string schedule, DateTimeOffset occurrence);

    [LoggerMessage(EventId = 9013, Level = LogLevel.Error, Message = "Report {Schedule}: rendering the report failed.")]
    private static partial void LogRenderFailed(ILogger logger, Exception exception, string schedule);
}
