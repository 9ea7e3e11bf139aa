using Microsoft.Extensions.Options;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Storage;

/// <summary>Deletes records older than <c>Storage:RetentionDays</c>, once at start-up and then hourly.</summary>
internal sealed class RetentionService(
    IExecutionStore store,
    IOptions<StorageOptions> options,
    TimeProvider clock,
    ILogger<RetentionService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    /// <summary>One sweep: the cutoff is "now" on the injected clock minus the retention period.</summary>
    public async Task<long> SweepAsync(CancellationToken cancellationToken)
    {
        var days = options.Value.RetentionDays;
        if (days == 0)
        {
            return 0;
        }

        var cutoff = clock.GetUtcNow() - TimeSpan.FromDays(days);
        var deleted = await store.DeleteOlderThanAsync(cutoff, cancellationToken).ConfigureAwait(false);
        if (deleted > 0)
        {
            logger.LogInformation("Retention removed {Rows} rows older than {Cutoff:O}", deleted, cutoff);
        }

        return deleted;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.RetentionDays == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval, clock);
        do
        {
            try
            {
                await SweepAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A failed sweep is retried next hour; it must not take the collector down.
                logger.LogError(ex, "Retention sweep failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
