using System.Diagnostics;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived;

/// <summary>
/// The one start-up replay: reads the store once (every table once, everything retention kept) and feeds it through
/// <see cref="DerivationPipeline"/> as committed batches, so every derivation starts from exactly what is stored, by the
/// same code that counts live commits. Runs in <see cref="StartAsync"/>, which the host completes before the server
/// listens, so no live batch can be counted twice; the store's initializer is registered before it.
/// </summary>
/// <remarks>
/// Order: provider calls, tool calls, invocations with their joined feedback, then evaluations, each in start-time
/// order, in batches of <see cref="BatchRecords"/>. That is the order an agent's spans usually commit in (calls end and
/// are exported before their invocation; evaluations and feedback come last), so derivations that read earlier records
/// of the same invocation (the model comparison reads its calls) see them. The stored span links are read first, so
/// that records whose attribution is still incomplete are held as the live writer held them
/// (<see cref="SpanAttribution"/>), and those whose horizon passed while the collector was down are counted without an
/// agent at the end, as the live writer would have.
/// </remarks>
public sealed partial class DerivationReplay(
    IServiceProvider services, DerivationPipeline pipeline, ILogger<DerivationReplay> logger) : IHostedService
{
    /// <summary>Records per replayed batch: bounds the replay's memory whatever the store holds.</summary>
    public const int BatchRecords = 4096;

    /// <summary>What the last replay read, and how long it took.</summary>
    public ReplayReport? LastReport { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<Coordination.DerivationRole>() is { Shared: true })
        {
            // Replicas share the store: the derivation leader reads it through Coordination.SharedDerivation instead.
            return;
        }
        if (services.GetService<IExecutionStore>() is not { } store)
        {
            LogNoStore(logger);
            return;
        }
        LastReport = await ReplayAsync(store, pipeline, cancellationToken, services.GetService<SpanAttribution>(),
            services.GetService<TimeProvider>() ?? TimeProvider.System).ConfigureAwait(false);
        LogReplayed(logger, LastReport.ProviderCalls, LastReport.ToolCalls, LastReport.Invocations, LastReport.Feedback,
            LastReport.Evaluations, LastReport.Elapsed.TotalSeconds);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Feeds everything <paramref name="store"/> holds through <paramref name="pipeline"/>.</summary>
    public static async Task<ReplayReport> ReplayAsync(IExecutionStore store, DerivationPipeline pipeline, CancellationToken cancellationToken,
        SpanAttribution? attribution = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(pipeline);
        var started = Stopwatch.GetTimestamp();
        if (attribution is not null)
        {
            var links = new List<SpanLink>();
            await foreach (var link in store.ReadSpanLinksAsync(cancellationToken).ConfigureAwait(false))
            {
                links.Add(link);
            }
            attribution.Load(links);
        }
        var everything = new InvocationQuery();
        long calls = 0, tools = 0, invocations = 0, feedback = 0, evaluations = 0;
        var batch = new IngestBatch();

        await foreach (var call in store.ReadProviderCallsAsync(everything, cancellationToken).ConfigureAwait(false))
        {
            batch.ProviderCalls.Add(call);
            calls++;
            batch = FlushWhenFull(batch, pipeline, attribution);
        }
        batch = Flush(batch, pipeline, attribution);
        await foreach (var tool in store.ReadToolCallsAsync(everything, cancellationToken).ConfigureAwait(false))
        {
            batch.ToolCalls.Add(tool);
            tools++;
            batch = FlushWhenFull(batch, pipeline, attribution);
        }
        batch = Flush(batch, pipeline, attribution);
        await foreach (var stored in store.ReadInvocationsAsync(everything, cancellationToken).ConfigureAwait(false))
        {
            batch.Invocations.Add(stored.Invocation);
            invocations++;
            if (stored.Feedback is { } joined)
            {
                batch.JoinedFeedback.Add(new FeedbackJoin(stored.Invocation, joined));
                feedback++;
            }
            batch = FlushWhenFull(batch, pipeline, attribution);
        }
        batch = Flush(batch, pipeline, attribution);
        await foreach (var evaluation in store.ReadEvaluationsAsync(everything, cancellationToken).ConfigureAwait(false))
        {
            batch.Evaluations.Add(evaluation);
            evaluations++;
            batch = FlushWhenFull(batch, pipeline, attribution);
        }
        Flush(batch, pipeline, attribution);
        if (attribution is not null)
        {
            // What waited a whole horizon by now is counted without an agent, as the live writer's sweep would have.
            var plan = attribution.Plan(new IngestBatch(), (time ?? TimeProvider.System).GetUtcNow());
            plan.ToStore.PruneSpanLinksBefore = null;
            pipeline.Apply(attribution.Commit(plan, new IngestBatch()));
        }
        return new ReplayReport(calls, tools, invocations, feedback, evaluations, Stopwatch.GetElapsedTime(started));
    }

    private static IngestBatch FlushWhenFull(IngestBatch batch, DerivationPipeline pipeline, SpanAttribution? attribution) =>
        batch.Count >= BatchRecords ? Flush(batch, pipeline, attribution) : batch;

    private static IngestBatch Flush(IngestBatch batch, DerivationPipeline pipeline, SpanAttribution? attribution)
    {
        if (batch.Count == 0)
        {
            return batch;
        }
        pipeline.Apply(attribution is null ? batch : attribution.Admit(batch));
        return new IngestBatch();
    }

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "No execution store is registered: every derivation starts empty.")]
    private static partial void LogNoStore(ILogger logger);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "Derivations replayed from the store: {ProviderCalls} provider calls, {ToolCalls} tool calls, {Invocations} invocations ({Feedback} with feedback), {Evaluations} evaluations in {Seconds:F2} s.")]
    private static partial void LogReplayed(ILogger logger, long providerCalls, long toolCalls, long invocations, long feedback, long evaluations, double seconds);
}

/// <summary>What one replay read and how long it took.</summary>
public sealed record ReplayReport(long ProviderCalls, long ToolCalls, long Invocations, long Feedback, long Evaluations, TimeSpan Elapsed);
