using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Models;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Cost;

/// <summary>
/// Rebuilds the cost, budget, model and experiment state from the store at start-up, by the same rules as live data:
/// provider calls since the start of the current UTC month (or the longest comparison window, if longer ago) feed the
/// period totals, budgets, comparison windows and attribution index; every stored invocation feeds the experiments
/// (which are cumulative) and, inside the windows, the model comparison; feedback and accuracy evaluations follow. It
/// runs in <see cref="StartAsync"/>, which the host completes before the server listens, so no live batch is counted
/// twice; register the store's initializer before it. The roll-up counters are not replayed: to Prometheus a restart
/// is a counter reset, and a replay would be counted again by increase().
/// </summary>
internal sealed partial class CostRebuildService(
    IExecutionStore store,
    CostLedger ledger,
    BudgetTracker budgets,
    InvocationAttribution attribution,
    ModelComparison comparison,
    ExperimentRegistry experiments,
    TimeProvider clock,
    ILogger<CostRebuildService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var longestWindow = comparison.Options.Windows.Max(w => w.Duration);
        var windowStart = now - longestWindow;
        var callsSince = CalendarPeriod.Monthly.StartOf(now);
        if (windowStart < callsSince)
        {
            callsSince = windowStart;
        }

        long calls = 0, invocations = 0, evaluations = 0;
        await foreach (var call in store.ReadProviderCallsAsync(new InvocationQuery { Since = callsSince }, cancellationToken)
                           .ConfigureAwait(false))
        {
            ledger.Record(call);
            budgets.Record(call);
            comparison.RecordCall(call);
            attribution.RecordCall(call);
            calls++;
        }

        await foreach (var stored in store.ReadInvocationsAsync(new InvocationQuery(), cancellationToken).ConfigureAwait(false))
        {
            var invocation = stored.Invocation;
            // The store's roll-up is the cost of all the invocation's calls (or its own span's when it has none);
            // unpriced tokens make it unknown.
            var knownCost = stored.UnpricedTokens > 0 ? null : stored.RolledUpCostUsd;
            var accuracy = stored.Feedback is { } feedback ? AccuracySamples.Of(feedback) : null;
            experiments.RecordInvocation(invocation, knownCost, accuracy);
            var facts = attribution.RecordInvocation(invocation);
            if (invocation.StartTime >= windowStart)
            {
                comparison.RecordInvocation(invocation, facts, knownCost, accuracy);
            }
            invocations++;
        }

        await foreach (var evaluation in store.ReadEvaluationsAsync(new InvocationQuery(), cancellationToken).ConfigureAwait(false))
        {
            if (AccuracySamples.Of(evaluation) is { } accuracy &&
                attribution.Find(evaluation.Tenant, evaluation.TraceId, evaluation.SpanId) is { } facts)
            {
                comparison.RecordAccuracy(evaluation.Tenant, facts, accuracy);
                experiments.RecordAccuracy(evaluation.Tenant, facts.Experiment, facts.Variant, accuracy);
                evaluations++;
            }
        }
        LogRebuilt(logger, calls, callsSince, invocations, evaluations);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Cost, budgets, models and experiments rebuilt from the store: {ProviderCalls} provider calls since {Since:o}, {Invocations} invocations, {Evaluations} accuracy evaluations.")]
    private static partial void LogRebuilt(ILogger logger, long providerCalls, DateTimeOffset since, long invocations, long evaluations);
}
