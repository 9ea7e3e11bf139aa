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
/// Order: every table is read once, all four at the same time, and merged by start time (an evaluation by its time,
/// <see cref="RecordMerge"/>), in batches of at most <see cref="BatchRecords"/>; on equal times provider calls, tool calls, invocations (with their joined
/// feedback), then evaluations. A run's records thus replay next to each other, as they committed live, so the
/// derivations that keep bounded per-invocation state (the invocation facts of the model comparison and experiments,
/// <c>Cost:AttributionCapacity</c>) see them together whatever the store holds; every derivation is order-free within
/// that, as the arrival-order tests require. The stored span links are read first, so
/// that records whose attribution is still incomplete are held as the live writer held them
/// (<see cref="SpanAttribution"/>), and those whose horizon passed while the collector was down are counted without an
/// agent at the end, as the live writer would have.
/// </remarks>
public sealed partial class DerivationReplay(
    IServiceProvider services, DerivationPipeline pipeline, ILogger<DerivationReplay> logger) : IHostedService
{
    /// <summary>Records per replayed batch (at most): bounds the replay's memory whatever the store holds.</summary>
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
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            BatchRecordsFor(services.GetService<InvocationAttribution>())).ConfigureAwait(false);
        LogReplayed(logger, LastReport.ProviderCalls, LastReport.ToolCalls, LastReport.Invocations, LastReport.Feedback,
            LastReport.Evaluations, LastReport.Elapsed.TotalSeconds);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Records per replayed batch with <paramref name="facts"/>: at most half their capacity, since a derivation takes a
    /// batch's calls before its invocations, and a batch's runs must all stay among the facts held meanwhile.
    /// </summary>
    public static int BatchRecordsFor(InvocationAttribution? facts) =>
        facts is null ? BatchRecords : Math.Clamp(facts.Capacity / 2, 1, BatchRecords);

    /// <summary>Feeds everything <paramref name="store"/> holds through <paramref name="pipeline"/>.</summary>
    public static async Task<ReplayReport> ReplayAsync(IExecutionStore store, DerivationPipeline pipeline, CancellationToken cancellationToken,
        SpanAttribution? attribution = null, TimeProvider? time = null, int batchRecords = BatchRecords)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchRecords, 1);
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
        // Every table at once, merged by time (RecordMerge): a run's records replay next to each other.
        await foreach (var batch in RecordMerge.BatchesAsync(batchRecords,
                           RecordStream.Of(store.ReadProviderCallsAsync(everything, cancellationToken), c => c.StartTime,
                               (b, c) => { b.ProviderCalls.Add(c); calls++; }),
                           RecordStream.Of(store.ReadToolCallsAsync(everything, cancellationToken), t => t.StartTime,
                               (b, t) => { b.ToolCalls.Add(t); tools++; }),
                           RecordStream.Of(store.ReadInvocationsAsync(everything, cancellationToken), s => s.Invocation.StartTime,
                               (b, s) =>
                               {
                                   b.Invocations.Add(s.Invocation);
                                   invocations++;
                                   if (s.Feedback is { } joined)
                                   {
                                       b.JoinedFeedback.Add(new FeedbackJoin(s.Invocation, joined));
                                       feedback++;
                                   }
                               }),
                           RecordStream.Of(store.ReadEvaluationsAsync(everything, cancellationToken), e => e.Time,
                               (b, e) => { b.Evaluations.Add(e); evaluations++; })).ConfigureAwait(false))
        {
            pipeline.Apply(attribution is null ? batch : attribution.Admit(batch));
        }
        if (attribution is not null)
        {
            // What waited a whole horizon by now is counted without an agent, as the live writer's sweep would have.
            var plan = attribution.Plan(new IngestBatch(), (time ?? TimeProvider.System).GetUtcNow());
            plan.ToStore.PruneSpanLinksBefore = null;
            pipeline.Apply(attribution.Commit(plan, new IngestBatch()));
        }
        return new ReplayReport(calls, tools, invocations, feedback, evaluations, Stopwatch.GetElapsedTime(started));
    }

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "No execution store is registered: every derivation starts empty.")]
    private static partial void LogNoStore(ILogger logger);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "Derivations replayed from the store: {ProviderCalls} provider calls, {ToolCalls} tool calls, {Invocations} invocations ({Feedback} with feedback), {Evaluations} evaluations in {Seconds:F2} s.")]
    private static partial void LogReplayed(ILogger logger, long providerCalls, long toolCalls, long invocations, long feedback, long evaluations, double seconds);
}

/// <summary>What one replay read and how long it took.</summary>
public sealed record ReplayReport(long ProviderCalls, long ToolCalls, long Invocations, long Feedback, long Evaluations, TimeSpan Elapsed);

