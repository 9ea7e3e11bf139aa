using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Kernel;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>
/// Re-derives the encoded analytics every <c>Analytics:ExpositionRefreshInterval</c>, off the scrape path: a scrape
/// after fleet-wide ingestion then copies bytes instead of deriving a report per (agent, window).
/// </summary>
internal sealed partial class AnalyticsExpositionRefresher(
    AnalyticsExposition exposition, RollingWindows windows, ILogger<AnalyticsExpositionRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = windows.Options.ExpositionRefreshInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        exposition.RefresherRunning(true);
        try
        {
            using var timer = new PeriodicTimer(interval);
            do
            {
                try
                {
                    exposition.Refresh();
                }
#pragma warning disable CA1031 // A failed refresh must not stop later ones; scrapes then derive themselves.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    LogRefreshFailed(logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            exposition.RefresherRunning(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Refreshing the analytics exposition failed; scrapes derive it themselves until a refresh succeeds.")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
