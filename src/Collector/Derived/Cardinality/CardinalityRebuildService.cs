using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Cardinality;

/// <summary>
/// Admits the values of everything in the store before the analytics and cost rebuilds run (it is registered before
/// them), in one fixed order: invocations, then provider calls, then evaluations, each by start time, the order in which
/// a batch is counted live. So which values keep their own series does not depend on which rebuild reads what first
/// or over which horizon. Nothing is counted: to Prometheus a restart is a counter reset.
/// </summary>
internal sealed partial class CardinalityRebuildService(
    IServiceProvider services, CardinalityGuard guard, ILogger<CardinalityRebuildService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<IExecutionStore>() is not { } store)
        {
            return;
        }
        var everything = new InvocationQuery();
        await foreach (var stored in store.ReadInvocationsAsync(everything, cancellationToken).ConfigureAwait(false))
        {
            var invocation = stored.Invocation;
            guard.Agent(invocation.Tenant, invocation.AgentName);
            if (!string.IsNullOrEmpty(invocation.Experiment) && !string.IsNullOrEmpty(invocation.Variant))
            {
                guard.ExperimentVariant(invocation.Tenant, invocation.Experiment, invocation.Variant);
            }
        }
        await foreach (var call in store.ReadProviderCallsAsync(everything, cancellationToken).ConfigureAwait(false))
        {
            guard.Agent(call.Tenant, call.AgentName);
            guard.Model(call.Tenant, call.Provider, Cost.CostKeys.ModelOf(call));
        }
        await foreach (var evaluation in store.ReadEvaluationsAsync(everything, cancellationToken).ConfigureAwait(false))
        {
            guard.Agent(evaluation.Tenant, evaluation.AgentName);
            guard.Evaluation(evaluation.Tenant, evaluation.Name);
        }
        LogPrimed(logger, guard.Tracked().Single(t => t.Dimension == CardinalityDimension.Tenant).Values);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 9102, Level = LogLevel.Information, Message = "Cardinality guard primed from the store: {Tenants} tenants keep series of their own.")]
    private static partial void LogPrimed(ILogger logger, int tenants);
}
