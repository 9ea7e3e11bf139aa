using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Analytics;

/// <summary>
/// Rebuilds the rolling windows from the store at start-up: everything the windows can hold (twice the longest window)
/// is read back through <see cref="IExecutionStore"/> and counted by the same rules as live data. It runs in
/// <see cref="StartAsync"/>, which the host completes before the server starts listening, so no live batch can be
/// counted twice. The store must be initialized before (register its initializer first).
/// </summary>
internal sealed partial class AnalyticsRebuildService(
    IServiceProvider services, RollingWindows windows, ILogger<AnalyticsRebuildService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Without a store there is no history: the windows start empty and fill from live data.
        if (services.GetService<IExecutionStore>() is not { } store)
        {
            LogNoStore(logger);
            return;
        }
        var since = windows.Now - windows.History;
        var query = new InvocationQuery { Since = since };
        long invocations = 0, calls = 0, evaluations = 0;

        await foreach (var stored in store.ReadInvocationsAsync(query, cancellationToken).ConfigureAwait(false))
        {
            windows.RecordInvocation(stored.Invocation);
            if (stored.Feedback is { } feedback)
            {
                windows.RecordFeedback(new FeedbackJoin(stored.Invocation, feedback));
            }
            invocations++;
        }
        await foreach (var call in store.ReadProviderCallsAsync(query, cancellationToken).ConfigureAwait(false))
        {
            windows.RecordProviderCall(call);
            calls++;
        }
        await foreach (var tool in store.ReadToolCallsAsync(query, cancellationToken).ConfigureAwait(false))
        {
            windows.RecordToolCall(tool);
        }
        await foreach (var evaluation in store.ReadEvaluationsAsync(query, cancellationToken).ConfigureAwait(false))
        {
            windows.RecordEvaluation(evaluation, agentName: null);
            evaluations++;
        }
        LogRebuilt(logger, invocations, calls, evaluations, since);
    }

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "No execution store is registered: analytics windows start empty.")]
    private static partial void LogNoStore(ILogger logger);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Analytics windows rebuilt from the store: {Invocations} invocations, {ProviderCalls} provider calls, {Evaluations} evaluations since {Since:o}.")]
    private static partial void LogRebuilt(ILogger logger, long invocations, long providerCalls, long evaluations, DateTimeOffset since);
}
