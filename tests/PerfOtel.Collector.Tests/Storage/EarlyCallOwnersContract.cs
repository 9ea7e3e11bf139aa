using PerfOtel.Collector.Derived.Runs;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage;
using PerfOtel.Collector.Derived.Thresholds;

namespace PerfOtel.Collector.Tests.Storage;

// The run-list call summary of calls stored before their invocation (docs/collector/storage.md, run-list call
// summary): SQLite probes a new invocation's earlier calls only when its span is an early call owner (migration 12),
// so every way a call can come to have no stored invocation must leave that record, and the summary must stay the
// sum of the invocation's stored calls whatever happened in between.
public abstract partial class ExecutionStoreContract
{
    [Fact]
    public async Task RunList_CallSummary_CountsCallsStoredBeforeTheirInvocation_AcrossARestartAndReattribution()
    {
        // Run I's first call is stored alone, under I's span (its parent, no invocation known yet); a second one under
        // an intermediate span X that is no invocation; an agent-less call under span Y of another trace. Then the
        // store restarts.
        var i = TestRecords.Invocation() with { Confidence = null, Quality = null };
        var direct = Call(i.TraceId, parent: i.SpanId, tokens: 1000);
        var x = TestRecords.SpanId();
        var underX = Call(i.TraceId, parent: x, tokens: 2000);
        var agentless = Call(TestRecords.TraceId(), parent: TestRecords.SpanId(), tokens: 700);
        await Store.WriteAsync(TestRecords.Batch(direct), CancellationToken.None);
        await Store.WriteAsync(TestRecords.Batch(underX, agentless), CancellationToken.None);
        await Store.DisposeAsync();
        Store = await OpenStoreAsync();

        // I arrives with a call of its own and the attribution that re-owns the call under X: 1 000 + 2 000 + 500.
        var own = Call(i.TraceId, parent: i.SpanId, tokens: 500) with { InvocationSpanId = i.SpanId };
        var batch = TestRecords.Batch(i, own);
        batch.Attributions.Add(new AttributionUpdate("default", i.TraceId, underX.SpanId, i.SpanId, i.AgentName));
        await Store.WriteAsync(batch, CancellationToken.None);
        await AssertRunTokensAsync(i.SpanId, 3500);

        // A later run K of another trace, while the agent-less call's owner has no invocation: only K's own call.
        var k = TestRecords.Invocation(start: i.StartTime.AddSeconds(1)) with { Confidence = null, Quality = null };
        await Store.WriteAsync(TestRecords.Batch(k, Call(k.TraceId, parent: k.SpanId, tokens: 300) with { InvocationSpanId = k.SpanId }),
            CancellationToken.None);
        await AssertRunTokensAsync(k.SpanId, 300);

        // The agent-less owner's span turns out to be an invocation after all, sent much later (past any horizon:
        // the summary follows the stored calls, not the attribution's memory) and after another restart.
        await Store.DisposeAsync();
        Store = await OpenStoreAsync();
        var late = TestRecords.Invocation(traceId: agentless.TraceId, spanId: agentless.ParentSpanId,
            start: i.StartTime.AddSeconds(2)) with { Confidence = null, Quality = null };
        await Store.WriteAsync(TestRecords.Batch(late), CancellationToken.None);
        await AssertRunTokensAsync(late.SpanId, 700);
    }

    [Fact]
    public async Task RunList_CallSummary_AnInvocationRetentionDeletedBeforeItsLaterCall_CountsThatCallWhenSentAgain()
    {
        // The run started before the retention cutoff and one of its calls after it: retention deletes the run and
        // keeps the call. A client that sends the run again (a late retry) stores it anew, with that call in its summary.
        var now = DateTimeOffset.UtcNow;
        var i = TestRecords.Invocation(start: now.AddMinutes(-30)) with { Confidence = null, Quality = null };
        var early = Call(i.TraceId, parent: i.SpanId, tokens: 800, start: now.AddMinutes(-29)) with { InvocationSpanId = i.SpanId };
        var later = Call(i.TraceId, parent: i.SpanId, tokens: 1200, start: now.AddMinutes(-5)) with { InvocationSpanId = i.SpanId };
        await Store.WriteAsync(TestRecords.Batch(i, early, later), CancellationToken.None);
        await AssertRunTokensAsync(i.SpanId, 2000);

        await Store.DeleteOlderThanAsync(now.AddMinutes(-10), CancellationToken.None);
        Assert.Empty(await WarnedAsync(RunWarnings.HighTokenUsage, new ThresholdSet { MaxTokensPerInvocation = 0 }));
        await Store.DisposeAsync();
        Store = await OpenStoreAsync();

        var written = await Store.WriteAsync(TestRecords.Batch(i), CancellationToken.None);
        Assert.Single(written.Invocations);
        await AssertRunTokensAsync(i.SpanId, 1200);
    }

    /// <summary>A provider call's row as a database before migration 12 stores it (owner: its invocation or parent).</summary>
    private string InsertCall(ProviderCall c) => Insert("provider_calls", Columns.ProviderCallInsert, c.Tenant, c.TraceId, c.SpanId,
        c.ParentSpanId, c.InvocationSpanId, c.InvocationSpanId ?? c.ParentSpanId, c.AgentName, c.Operation, c.Provider,
        c.RequestModel, c.ResponseModel, c.StartTime, c.DurationSeconds, c.Tokens.Input, c.Tokens.Output,
        c.Tokens.CacheRead, c.Tokens.CacheCreation, c.Tokens.Reasoning, c.CostUsd, c.UnpricedTokens, c.Attempt,
        c.FallbackFrom, c.FallbackReason, c.ErrorType, c.SampleWeight);

    /// <summary>An invocation's row with the call summary of one stored call of <paramref name="callTokens"/> tokens.</summary>
    private string InsertRunWithOneCall(AgentInvocation j, long callTokens) => Insert("invocations", Columns.Invocation + ", " + CallTotals.ColumnNames,
        j.Tenant, j.TraceId, j.SpanId, j.ParentSpanId, j.ServiceName, j.AgentName, j.AgentId, j.AgentType, j.TaskId, j.TaskType,
        j.JobId, j.ConversationId, j.Experiment, j.Variant, j.StartTime, j.DurationSeconds, j.Outcome, j.ErrorType, j.Confidence,
        j.Quality, j.Tokens.Input, j.Tokens.Output, j.Tokens.CacheRead, j.Tokens.CacheCreation, j.Tokens.Reasoning,
        j.CostUsd, j.AttributesJson, j.SampleWeight, 1, callTokens, 0, 0, 0);

    [Fact]
    public async Task Migration12_RecordsTheOwnersOfCallsStoredBeforeTheirInvocation()
    {
        // A database at version 11 holding a call whose invocation has not arrived yet, and a run with its call.
        var i = TestRecords.Invocation() with { Confidence = null, Quality = null };
        var waiting = Call(i.TraceId, parent: i.SpanId, tokens: 4200);
        var j = TestRecords.Invocation(start: i.StartTime.AddSeconds(1)) with { Confidence = null, Quality = null };
        var ofJ = Call(j.TraceId, parent: j.SpanId, tokens: 900) with { InvocationSpanId = j.SpanId };
        var insertJ = InsertRunWithOneCall(j, callTokens: 900);
        await Store.DisposeAsync();
        Store = await RecreateAtSchemaVersionAsync(11, string.Join(";\n", InsertCall(waiting), InsertCall(ofJ), insertJ));

        // After the migration the waiting call's invocation arrives and counts it; J keeps its figures.
        await Store.WriteAsync(TestRecords.Batch(i), CancellationToken.None);
        await AssertRunTokensAsync(i.SpanId, 4200);
        await AssertRunTokensAsync(j.SpanId, 900);
    }

    [Fact]
    public async Task Migration14_KeepsEveryCallAndTheSumsOfCallsStoredBeforeTheirInvocation()
    {
        // A database from before migration 12 (so that an upgrade runs 12's record of early owners, then 14's sums and
        // the owner index's removal): I's two calls wait for I (one retried, one a fallback), two calls wait under an
        // intermediate span X, and a run J is stored with its call.
        var i = TestRecords.Invocation() with { Confidence = null, Quality = null };
        var retried = Call(i.TraceId, parent: i.SpanId, tokens: 1000) with { Attempt = 2 };
        var fellBack = Call(i.TraceId, parent: i.SpanId, tokens: 2000) with { FallbackFrom = "gpt-4o" };
        var x = TestRecords.SpanId();
        var movedFromX = Call(i.TraceId, parent: x, tokens: 300);
        var stayingUnderX = Call(i.TraceId, parent: x, tokens: 400);
        var j = TestRecords.Invocation(start: i.StartTime.AddSeconds(1)) with { Confidence = null, Quality = null };
        var ofJ = Call(j.TraceId, parent: j.SpanId, tokens: 900) with { InvocationSpanId = j.SpanId };
        var insertJ = InsertRunWithOneCall(j, callTokens: 900);
        await Store.DisposeAsync();
        Store = await RecreateAtSchemaVersionAsync(11, string.Join(";\n",
            InsertCall(retried), InsertCall(fellBack), InsertCall(movedFromX), InsertCall(stayingUnderX), InsertCall(ofJ), insertJ));

        // Every call is still there and read the same.
        var calls = await ReadAll(Store.ReadProviderCallsAsync(new InvocationQuery(), CancellationToken.None));
        Assert.Equal(new[] { retried, fellBack, movedFromX, stayingUnderX, ofJ }.Select(c => c.SpanId).Order(StringComparer.Ordinal),
            calls.Select(c => c.SpanId).Order(StringComparer.Ordinal));

        // I arrives with the attribution that re-owns one of X's calls: its summary holds its two waiting calls and the
        // moved one (the retry and the fallback included); X keeps only the other, which X's invocation, sent late,
        // counts; J keeps its figures.
        var batch = TestRecords.Batch(i);
        batch.Attributions.Add(new AttributionUpdate("default", i.TraceId, movedFromX.SpanId, i.SpanId, i.AgentName));
        await Store.WriteAsync(batch, CancellationToken.None);
        await AssertRunTokensAsync(i.SpanId, 3300);
        Assert.Contains(i.SpanId, await WarnedAsync(RunWarnings.FallbackUsed));
        Assert.Contains(i.SpanId, await WarnedAsync(RunWarnings.ManyRetries, new ThresholdSet { MaxRunRetries = 0 }));
        var lateX = TestRecords.Invocation(traceId: i.TraceId, spanId: x, start: i.StartTime.AddSeconds(2)) with { Confidence = null, Quality = null };
        await Store.WriteAsync(TestRecords.Batch(lateX), CancellationToken.None);
        await AssertRunTokensAsync(x, 400);
        Assert.DoesNotContain(x, await WarnedAsync(RunWarnings.FallbackUsed));
        await AssertRunTokensAsync(j.SpanId, 900);
    }

    private static ProviderCall Call(string traceId, string parent, long tokens, DateTimeOffset? start = null) =>
        TestRecords.ProviderCall(traceId, parent, null, new TokenCounts(tokens, 0, 0, 0, 0), 0.01, start: start)
            with { Attempt = 1, FallbackFrom = null };

    /// <summary>The run's summary holds exactly <paramref name="tokens"/> call tokens (the high-token warning's edge).</summary>
    private async Task AssertRunTokensAsync(string spanId, long tokens)
    {
        Assert.Contains(spanId, await WarnedAsync(RunWarnings.HighTokenUsage, new ThresholdSet { MaxTokensPerInvocation = tokens - 1 }));
        Assert.DoesNotContain(spanId, await WarnedAsync(RunWarnings.HighTokenUsage, new ThresholdSet { MaxTokensPerInvocation = tokens }));
    }
}
