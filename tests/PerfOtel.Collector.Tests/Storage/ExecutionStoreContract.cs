using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// What every <see cref="IExecutionStore"/> must do, run against each real implementation by a subclass that supplies
/// a fresh, empty database per test.
/// </summary>
public abstract partial class ExecutionStoreContract : IAsyncLifetime
{
    protected IExecutionStore Store { get; set; } = null!;

    /// <summary>Opens a store on this test's database (the same one on every call) and initializes it.</summary>
    protected abstract Task<IExecutionStore> OpenStoreAsync();

    /// <summary>Configuration that makes the collector host use this test's database.</summary>
    protected abstract IReadOnlyDictionary<string, string?> HostSettings { get; }

    public virtual async Task InitializeAsync() => Store = await OpenStoreAsync();

    public virtual async Task DisposeAsync() => await Store.DisposeAsync();

    [Fact]
    public async Task EveryRecordTypeRoundTripsField_for_field()
    {
        // Sampling weights are exact adjusted counts (th:e666 gives 9.99939...), kept as they came.
        var weight = 65536.0 / (65536 - 0xe666);
        var invocation = TestRecords.Invocation(taskId: "task-1") with { SampleWeight = weight };
        var call = TestRecords.ProviderCall(invocation.TraceId, invocation.SpanId, invocation.SpanId,
            new TokenCounts(100, 50, 7, 8, 9), 0.25, unpriced: 0) with { SampleWeight = weight };
        var tool = TestRecords.ToolCall(invocation.TraceId) with { SampleWeight = 4 };
        var evaluation = TestRecords.Evaluation(invocation.TraceId, invocation.SpanId, sequence: 3) with { SampleWeight = 2 };
        await Store.WriteAsync(TestRecords.Batch(invocation, call, tool, evaluation), CancellationToken.None);
        var feedback = TestRecords.Feedback(traceId: invocation.TraceId, spanId: invocation.SpanId);
        await Store.AddFeedbackAsync(feedback, CancellationToken.None);

        var stored = Assert.Single(await ReadInvocations());
        Assert.Equal(invocation, stored.Invocation);
        Assert.Equal(feedback, stored.Feedback);
        Assert.Equal(call, Assert.Single(await ReadAll(Store.ReadProviderCallsAsync(new InvocationQuery(), CancellationToken.None))));
        Assert.Equal(tool, Assert.Single(await ReadAll(Store.ReadToolCallsAsync(new InvocationQuery(), CancellationToken.None))));
        Assert.Equal(evaluation, Assert.Single(await ReadAll(Store.ReadEvaluationsAsync(new InvocationQuery(), CancellationToken.None))));
    }

    [Fact]
    public async Task NullableFieldsRoundTripAsNull()
    {
        var bare = new AgentInvocation
        {
            Tenant = "default", TraceId = TestRecords.TraceId(), SpanId = TestRecords.SpanId(), AgentName = "a",
            StartTime = TestRecords.Start, DurationSeconds = 0, Outcome = "success",
        };
        var call = new ProviderCall
        {
            Tenant = "default", TraceId = TestRecords.TraceId(), SpanId = TestRecords.SpanId(), Operation = "chat",
            Provider = "openai", StartTime = TestRecords.Start, DurationSeconds = 0,
        };
        await Store.WriteAsync(TestRecords.Batch(bare, call), CancellationToken.None);

        var stored = Assert.Single(await ReadInvocations());
        Assert.Equal(bare, stored.Invocation);
        Assert.Null(stored.Feedback);
        Assert.Equal(call, Assert.Single(await ReadAll(Store.ReadProviderCallsAsync(new InvocationQuery(), CancellationToken.None))));
    }

    [Fact]
    public async Task EmptyStringsStayEmptyNotNull()
    {
        var invocation = TestRecords.Invocation() with { Outcome = "", TaskId = "", AgentName = "" };
        await Store.WriteAsync(TestRecords.Batch(invocation), CancellationToken.None);

        Assert.Equal(invocation, Assert.Single(await ReadInvocations()).Invocation);
    }

    [Fact]
    public async Task TheSameSpansSentTwiceAreStoredOnce()
    {
        var invocation = TestRecords.Invocation();
        var call = TestRecords.ProviderCall(invocation.TraceId, invocation.SpanId, null, new TokenCounts(10, 1, 0, 0, 0), 0.1);
        var tool = TestRecords.ToolCall(invocation.TraceId);
        var evaluation = TestRecords.Evaluation(invocation.TraceId, invocation.SpanId);
        await Store.WriteAsync(TestRecords.Batch(invocation, call, tool, evaluation), CancellationToken.None);
        // A retried export resends everything, sometimes with more spans alongside.
        var other = TestRecords.Invocation();
        await Store.WriteAsync(TestRecords.Batch(invocation, call, tool, evaluation, other), CancellationToken.None);
        await Store.WriteAsync(TestRecords.Batch(call with { }), CancellationToken.None);
        var twiceInOneBatch = TestRecords.Invocation();
        await Store.WriteAsync(TestRecords.Batch(twiceInOneBatch, twiceInOneBatch with { }), CancellationToken.None);

        var invocations = await ReadInvocations();
        Assert.Equal(3, invocations.Count);
        Assert.Equal(new TokenCounts(10, 1, 0, 0, 0), invocations.Single(i => i.Invocation.SpanId == invocation.SpanId).RolledUpTokens);
        Assert.Single(await ReadAll(Store.ReadProviderCallsAsync(new InvocationQuery(), CancellationToken.None)));
        Assert.Single(await ReadAll(Store.ReadToolCallsAsync(new InvocationQuery(), CancellationToken.None)));
        Assert.Single(await ReadAll(Store.ReadEvaluationsAsync(new InvocationQuery(), CancellationToken.None)));
    }

    [Fact]
    public async Task AWriteReturnsOnlyTheRecordsItStoredForTheFirstTime()
    {
        var invocation = TestRecords.Invocation();
        var call = TestRecords.ProviderCall(invocation.TraceId, invocation.SpanId, null, new TokenCounts(10, 1, 0, 0, 0), 0.1);
        var tool = TestRecords.ToolCall(invocation.TraceId);
        var evaluation = TestRecords.Evaluation(invocation.TraceId, invocation.SpanId, sequence: 0);
        var first = await Store.WriteAsync(TestRecords.Batch(invocation, call, tool, evaluation), CancellationToken.None);
        Assert.Equal([invocation], first.Invocations);
        Assert.Equal([call], first.ProviderCalls);
        Assert.Equal([tool], first.ToolCalls);
        Assert.Equal([evaluation], first.Evaluations);

        // A retried export overlapping the first, with new records between the old ones and one new span twice.
        var other = TestRecords.Invocation();
        var otherCall = TestRecords.ProviderCall(other.TraceId, other.SpanId, null, new TokenCounts(5, 5, 0, 0, 0), 0.2);
        var otherTool = TestRecords.ToolCall(other.TraceId);
        var secondEvaluation = evaluation with { Sequence = 1, Score = 0.25 };
        var overlapping = await Store.WriteAsync(TestRecords.Batch(
            invocation, other, other with { }, call, otherCall, otherCall with { }, tool, otherTool,
            evaluation, secondEvaluation, secondEvaluation with { }), CancellationToken.None);

        Assert.Equal([other], overlapping.Invocations);
        Assert.Equal([otherCall], overlapping.ProviderCalls);
        Assert.Equal([otherTool], overlapping.ToolCalls);
        Assert.Equal([secondEvaluation], overlapping.Evaluations);
        Assert.Empty(overlapping.JoinedFeedback);

        var again = await Store.WriteAsync(TestRecords.Batch(invocation, other, call, otherCall, tool, otherTool,
            evaluation, secondEvaluation), CancellationToken.None);
        Assert.Equal(0, again.Count);
    }

    [Fact]
    public async Task ConcurrentOverlappingWritesReportEachRecordAsNewExactlyOnce()
    {
        // Writers that all resend a shared set of spans beside their own: whichever commits a shared span first
        // reports it, none of the others does (and SQLite's group commit puts many of them in one transaction).
        var shared = Enumerable.Range(0, 20).Select(_ => TestRecords.Invocation()).ToList();
        var own = Enumerable.Range(0, 16).Select(_ => TestRecords.Invocation()).ToList();
        var writes = own.Select(mine => Task.Run(() =>
        {
            var records = shared.Cast<object>().Append(mine).Reverse().ToArray();
            return Store.WriteAsync(TestRecords.Batch(records), CancellationToken.None);
        })).ToArray();
        var committed = await Task.WhenAll(writes);

        var reported = committed.SelectMany(batch => batch.Invocations).Select(i => i.SpanId).ToList();
        Assert.Equal(shared.Count + own.Count, reported.Count);
        Assert.Equal(shared.Concat(own).Select(i => i.SpanId).Order(StringComparer.Ordinal),
            reported.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TextWithANulCharacterDoesNotRejectItsBatch()
    {
        var odd = TestRecords.Invocation() with { AgentName = "plan\0ner", AttributesJson = null };
        var normal = TestRecords.Invocation();

        await Store.WriteAsync(TestRecords.Batch(odd, normal), CancellationToken.None);

        var stored = await ReadInvocations();
        Assert.Equal(2, stored.Count);
        Assert.StartsWith("plan", stored.Single(s => s.Invocation.SpanId == odd.SpanId).Invocation.AgentName, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ProviderCallsRollUpIntoTheirInvocationInEitherArrivalOrder(bool childrenFirst)
    {
        var invocation = TestRecords.Invocation();
        var trace = invocation.TraceId;
        var direct = TestRecords.ProviderCall(trace, TestRecords.SpanId(), invocation.SpanId, new TokenCounts(100, 10, 1, 2, 3), 0.5);
        var byParent = TestRecords.ProviderCall(trace, invocation.SpanId, null, new TokenCounts(200, 20, 0, 0, 4), 0.25);
        var unpriced = TestRecords.ProviderCall(trace, invocation.SpanId, null, new TokenCounts(30, 3, 0, 0, 0), null, unpriced: 33);
        var elsewhere = TestRecords.ProviderCall(trace, TestRecords.SpanId(), TestRecords.SpanId(), new TokenCounts(999, 999, 0, 0, 0), 9);
        var sameSpanIdOtherTrace = TestRecords.ProviderCall(TestRecords.TraceId(), invocation.SpanId, null, new TokenCounts(777, 0, 0, 0, 0), 7);

        var children = TestRecords.Batch(direct, byParent);
        var moreChildren = TestRecords.Batch(unpriced, elsewhere, sameSpanIdOtherTrace);
        var parent = TestRecords.Batch(invocation);
        foreach (var batch in childrenFirst ? [children, parent, moreChildren] : new[] { parent, moreChildren, children })
        {
            await Store.WriteAsync(batch, CancellationToken.None);
        }

        var stored = Assert.Single(await ReadInvocations());
        Assert.Equal(new TokenCounts(330, 33, 1, 2, 7), stored.RolledUpTokens);
        Assert.Equal(0.75, stored.RolledUpCostUsd!.Value, 10);
        Assert.Equal(33, stored.UnpricedTokens);
    }

    [Fact]
    public async Task AnInvocationWithoutChildCallsKeepsItsOwnTotals()
    {
        var invocation = TestRecords.Invocation();
        await Store.WriteAsync(TestRecords.Batch(invocation), CancellationToken.None);

        var stored = Assert.Single(await ReadInvocations());
        Assert.Equal(invocation.Tokens, stored.RolledUpTokens);
        Assert.Equal(invocation.CostUsd, stored.RolledUpCostUsd);
        Assert.Equal(0, stored.UnpricedTokens);
    }

    [Fact]
    public async Task FeedbackBeforeItsInvocationWaitsAndJoinsWhenTheInvocationIsWritten()
    {
        var byTask = TestRecords.Feedback(taskId: "task-42");
        var invocationForSpan = TestRecords.Invocation();
        var bySpan = TestRecords.Feedback(traceId: invocationForSpan.TraceId, spanId: invocationForSpan.SpanId);
        Assert.Equal(new FeedbackResult(false, null), await Store.AddFeedbackAsync(byTask, CancellationToken.None));
        Assert.Equal(new FeedbackResult(false, null), await Store.AddFeedbackAsync(bySpan, CancellationToken.None));

        var invocationForTask = TestRecords.Invocation(taskId: "task-42");
        var unrelated = TestRecords.Invocation(taskId: "task-43");
        var batch = TestRecords.Batch(invocationForTask, invocationForSpan, unrelated);
        var committed = await Store.WriteAsync(batch, CancellationToken.None);

        Assert.Equal(2, committed.JoinedFeedback.Count);
        Assert.Contains(new FeedbackJoin(invocationForTask, byTask), committed.JoinedFeedback);
        Assert.Contains(new FeedbackJoin(invocationForSpan, bySpan), committed.JoinedFeedback);
        var stored = (await ReadInvocations()).ToDictionary(s => s.Invocation.SpanId);
        Assert.Equal(byTask, stored[invocationForTask.SpanId].Feedback);
        Assert.Equal(bySpan, stored[invocationForSpan.SpanId].Feedback);
        Assert.Null(stored[unrelated.SpanId].Feedback);

        // The same spans again: nothing is joined twice.
        var resent = await Store.WriteAsync(TestRecords.Batch(invocationForTask, invocationForSpan), CancellationToken.None);
        Assert.Empty(resent.JoinedFeedback);
        Assert.Equal(0, resent.Count);
    }

    [Fact]
    public async Task FeedbackAfterItsInvocationJoinsImmediately()
    {
        var first = TestRecords.Invocation(taskId: "task-7", start: TestRecords.Start);
        var retry = TestRecords.Invocation(taskId: "task-7", start: TestRecords.Start.AddSeconds(30));
        await Store.WriteAsync(TestRecords.Batch(first, retry), CancellationToken.None);

        var byTask = TestRecords.Feedback(taskId: "task-7");
        var result = await Store.AddFeedbackAsync(byTask, CancellationToken.None);
        Assert.Equal(new FeedbackResult(true, retry), result);

        var bySpan = TestRecords.Feedback(traceId: first.TraceId, spanId: first.SpanId);
        Assert.Equal(new FeedbackResult(true, first), await Store.AddFeedbackAsync(bySpan, CancellationToken.None));

        var resent = await Store.AddFeedbackAsync(bySpan with { Score = 0.1 }, CancellationToken.None);
        Assert.Equal(new FeedbackResult(true, first, AlreadyStored: true), resent);
        var stored = (await ReadInvocations()).ToDictionary(s => s.Invocation.SpanId);
        Assert.Equal(bySpan, stored[first.SpanId].Feedback);
        Assert.Equal(byTask, stored[retry.SpanId].Feedback);
    }

    [Fact]
    public async Task TheSameSpanIdsFromTwoTenantsAreTwoRecords()
    {
        // Tenant "acme" sends ids first; tenant "globex" sends the same ids with its own data, alone and in one batch.
        var acme = TestRecords.Invocation(taskId: "acme-task", tenant: "acme", agent: "acme-agent");
        var acmeCall = TestRecords.ProviderCall(acme.TraceId, acme.SpanId, acme.SpanId, new TokenCounts(10, 1, 0, 0, 0), 0.1)
            with { Tenant = "acme" };
        var acmeTool = TestRecords.ToolCall(acme.TraceId) with { Tenant = "acme" };
        var acmeEvaluation = TestRecords.Evaluation(acme.TraceId, acme.SpanId) with { Tenant = "acme" };
        var globex = acme with { Tenant = "globex", AgentName = "globex-agent", TaskId = "globex-task" };
        var globexCall = acmeCall with { Tenant = "globex", Tokens = new TokenCounts(20, 2, 0, 0, 0) };
        var globexTool = acmeTool with { Tenant = "globex", ToolName = "globex_tool" };
        var globexEvaluation = acmeEvaluation with { Tenant = "globex", Score = 0.1 };
        await Store.WriteAsync(TestRecords.Batch(acme, acmeCall, acmeTool, acmeEvaluation), CancellationToken.None);

        var second = await Store.WriteAsync(TestRecords.Batch(globex, globexCall, globexTool, globexEvaluation),
            CancellationToken.None);

        Assert.Equal([globex], second.Invocations);
        Assert.Equal([globexCall], second.ProviderCalls);
        Assert.Equal([globexTool], second.ToolCalls);
        Assert.Equal([globexEvaluation], second.Evaluations);
        var stored = await ReadInvocations();
        Assert.Equal(2, stored.Count);
        var acmes = Assert.Single(await ReadInvocations(new InvocationQuery { Tenant = "acme" }));
        var globexes = Assert.Single(await ReadInvocations(new InvocationQuery { Tenant = "globex" }));
        Assert.Equal(acme, acmes.Invocation);
        Assert.Equal(globex, globexes.Invocation);
        // Each tenant's invocation rolls up its own call only.
        Assert.Equal(acmeCall.Tokens, acmes.RolledUpTokens);
        Assert.Equal(globexCall.Tokens, globexes.RolledUpTokens);
        Assert.Equal([globexCall], await ReadAll(Store.ReadProviderCallsAsync(new InvocationQuery { Tenant = "globex" }, CancellationToken.None)));
        Assert.Equal([globexTool], await ReadAll(Store.ReadToolCallsAsync(new InvocationQuery { Tenant = "globex" }, CancellationToken.None)));
        Assert.Equal([globexEvaluation], await ReadAll(Store.ReadEvaluationsAsync(new InvocationQuery { Tenant = "globex" }, CancellationToken.None)));

        // Feedback by span joins the invocation of its own tenant.
        var feedback = TestRecords.Feedback(traceId: acme.TraceId, spanId: acme.SpanId) with { Tenant = "globex" };
        Assert.Equal(new FeedbackResult(true, globex), await Store.AddFeedbackAsync(feedback, CancellationToken.None));
        Assert.Null(Assert.Single(await ReadInvocations(new InvocationQuery { Tenant = "acme" })).Feedback);
        Assert.Equal(feedback, Assert.Single(await ReadInvocations(new InvocationQuery { Tenant = "globex" })).Feedback);

        // Both tenants' copies of a new span in one batch are both new; a resend of either is not.
        var shared = TestRecords.Invocation(tenant: "acme");
        var both = await Store.WriteAsync(TestRecords.Batch(shared, shared with { Tenant = "globex" }), CancellationToken.None);
        Assert.Equal([shared, shared with { Tenant = "globex" }], both.Invocations);
        var resent = await Store.WriteAsync(TestRecords.Batch(globex, globexCall, globexTool, globexEvaluation,
            shared with { Tenant = "globex" }), CancellationToken.None);
        Assert.Equal(0, resent.Count);
        Assert.Equal(4, (await ReadInvocations()).Count);
    }

    /// <summary>A table's columns before migration 4 added the sampling weight.</summary>
    private static string Version1(string columns) => columns.Replace(", sample_weight", string.Empty, StringComparison.Ordinal);

    [Fact]
    public async Task DataStoredBeforeTheTenantJoinedTheIdentitySurvivesTheMigration()
    {
        // Rows from before the sampling weight existed read back with weight 1 (the records' default), as asserted below.
        // Records as the schema of version 1 held them, keyed on (trace id, span id) alone.
        var invocation = TestRecords.Invocation(taskId: "task-before", tenant: "acme");
        var call = TestRecords.ProviderCall(invocation.TraceId, invocation.SpanId, invocation.SpanId,
            new TokenCounts(100, 50, 7, 8, 9), 0.25) with { Tenant = "acme" };
        var tool = TestRecords.ToolCall(invocation.TraceId) with { Tenant = "acme" };
        var evaluation = TestRecords.Evaluation(invocation.TraceId, invocation.SpanId, sequence: 2) with { Tenant = "acme" };
        var joined = TestRecords.Feedback(traceId: invocation.TraceId, spanId: invocation.SpanId) with { Tenant = "acme" };
        var pending = TestRecords.Feedback(taskId: "task-after") with { Tenant = "acme" };
        var i = invocation;
        var c = call;
        var version1 = string.Join(";\n",
            Insert("invocations", Version1(Columns.Invocation), i.Tenant, i.TraceId, i.SpanId, i.ParentSpanId, i.ServiceName,
                i.AgentName, i.AgentId, i.AgentType, i.TaskId, i.TaskType, i.JobId, i.ConversationId, i.Experiment,
                i.Variant, i.StartTime, i.DurationSeconds, i.Outcome, i.ErrorType, i.Confidence, i.Quality,
                i.Tokens.Input, i.Tokens.Output, i.Tokens.CacheRead, i.Tokens.CacheCreation, i.Tokens.Reasoning,
                i.CostUsd, i.AttributesJson),
            Insert("provider_calls", Version1(Columns.ProviderCallInsert), c.Tenant, c.TraceId, c.SpanId, c.ParentSpanId,
                c.InvocationSpanId, c.InvocationSpanId, c.AgentName, c.Operation, c.Provider, c.RequestModel,
                c.ResponseModel, c.StartTime, c.DurationSeconds, c.Tokens.Input, c.Tokens.Output, c.Tokens.CacheRead,
                c.Tokens.CacheCreation, c.Tokens.Reasoning, c.CostUsd, c.UnpricedTokens, c.Attempt, c.FallbackFrom,
                c.FallbackReason, c.ErrorType),
            Insert("tool_calls", Version1(Columns.ToolCall), tool.Tenant, tool.TraceId, tool.SpanId, tool.ParentSpanId,
                tool.InvocationSpanId, tool.AgentName, tool.ToolName, tool.ToolCallId, tool.StartTime,
                tool.DurationSeconds, tool.ErrorType),
            Insert("evaluations", Version1(Columns.Evaluation), evaluation.Tenant, evaluation.TraceId, evaluation.SpanId,
                evaluation.Sequence, evaluation.AgentName, evaluation.Name, evaluation.Score, evaluation.Label,
                evaluation.Time),
            FeedbackInsert(joined, invocation),
            FeedbackInsert(pending, null));
        await Store.DisposeAsync();

        Store = await RecreateAtSchemaVersionAsync(1, version1);

        var stored = Assert.Single(await ReadInvocations());
        Assert.Equal(invocation, stored.Invocation);
        Assert.Equal(call.Tokens, stored.RolledUpTokens);
        Assert.Equal(call.CostUsd, stored.RolledUpCostUsd);
        Assert.Equal(joined, stored.Feedback);
        Assert.Equal([call], await ReadAll(Store.ReadProviderCallsAsync(new InvocationQuery(), CancellationToken.None)));
        Assert.Equal([tool], await ReadAll(Store.ReadToolCallsAsync(new InvocationQuery(), CancellationToken.None)));
        Assert.Equal([evaluation], await ReadAll(Store.ReadEvaluationsAsync(new InvocationQuery(), CancellationToken.None)));

        // The migrated tables behave as new ones: a resend is absorbed, another tenant's copy is its own record, and
        // feedback that was pending before the migration joins the invocation it waited for.
        Assert.Equal(0, (await Store.WriteAsync(TestRecords.Batch(invocation, call, tool, evaluation), CancellationToken.None)).Count);
        var copy = await Store.WriteAsync(TestRecords.Batch(invocation with { Tenant = "globex" }, call with { Tenant = "globex" }),
            CancellationToken.None);
        Assert.Equal(2, copy.Count);
        var later = TestRecords.Invocation(taskId: "task-after", tenant: "acme");
        var committed = await Store.WriteAsync(TestRecords.Batch(later), CancellationToken.None);
        Assert.Equal([new FeedbackJoin(later, pending)], committed.JoinedFeedback);
        Assert.Equal(3, (await ReadInvocations()).Count);
    }

    [Fact]
    public async Task Migration8_KeepsEverySpanLinkAndItsDecisions()
    {
        // Links as migration 7 stored them: one expired (a stored decision), one an invoke_agent span's.
        var seen = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var expired = new SpanLink
        {
            Tenant = "acme", TraceId = "trace-8", SpanId = "call-8", ParentSpanId = "tool-8", SeenAt = seen, Expired = true,
        };
        var agent = new SpanLink { Tenant = "acme", TraceId = "trace-8", SpanId = "agent-8", InvocationAgent = "planner", SeenAt = seen };
        const string columns = "tenant, trace_id, span_id, parent_span_id, invocation_agent, seen_at, expired";
        var version7 = string.Join(";\n",
            Insert("span_links", columns, expired.Tenant, expired.TraceId, expired.SpanId, expired.ParentSpanId, null, seen, true),
            Insert("span_links", columns, agent.Tenant, agent.TraceId, agent.SpanId, null, agent.InvocationAgent, seen, false));
        await Store.DisposeAsync();

        Store = await RecreateAtSchemaVersionAsync(7, version7);

        Assert.Equal([agent, expired], (await ReadAll(Store.ReadSpanLinksAsync(CancellationToken.None))).OrderBy(l => l.SpanId));
        // The migrated table behaves as the old one: a link it holds keeps its first sighting, another tenant's is its own.
        var again = TestRecords.Batch();
        again.SpanLinks.Add(agent with { SeenAt = seen.AddMinutes(1) });
        again.SpanLinks.Add(agent with { Tenant = "globex", SeenAt = seen.AddMinutes(1) });
        await Store.WriteAsync(again, CancellationToken.None);
        var links = await ReadAll(Store.ReadSpanLinksAsync(CancellationToken.None));
        Assert.Equal(3, links.Count);
        Assert.Equal(seen, links.Single(l => l is { Tenant: "acme", SpanId: "agent-8" }).SeenAt);
    }

    [Fact]
    public async Task Migration9_PacksEverySpanLinkAndKeepsItsDecisions()
    {
        // Links as migration 8 stored them, one row per span, seen at two times: OpenTelemetry ids (lowercase hex, packed
        // as bytes) and ids that are not (kept as text), two tenants, an agent, roots, and two expiry decisions.
        var first = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var second = first.AddMinutes(1);
        const string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        SpanLink[] links =
        [
            new() { Tenant = "acme", TraceId = trace, SpanId = "00f067aa0ba902b7", InvocationAgent = "planner", SeenAt = first },
            new() { Tenant = "acme", TraceId = trace, SpanId = "b7ad6b7169203331", ParentSpanId = "00f067aa0ba902b7", SeenAt = first },
            new() { Tenant = "acme", TraceId = trace, SpanId = "c0ffee0000000001", ParentSpanId = "b7ad6b7169203331", SeenAt = first, Expired = true },
            new() { Tenant = "globex-ü", TraceId = "trace-9", SpanId = "ROOT-9", SeenAt = second },
            new() { Tenant = "globex-ü", TraceId = "trace-9", SpanId = "call-9", ParentSpanId = "ROOT-9", SeenAt = second, Expired = true },
        ];
        const string columns = "tenant, trace_id, span_id, parent_span_id, invocation_agent, seen_at, expired";
        var version8 = string.Join(";\n", links.Select(l =>
            Insert("span_links", columns, l.Tenant, l.TraceId, l.SpanId, l.ParentSpanId, l.InvocationAgent, l.SeenAt, l.Expired)));
        await Store.DisposeAsync();

        Store = await RecreateAtSchemaVersionAsync(8, version8);

        static string Key(SpanLink l) => $"{l.Tenant}/{l.TraceId}/{l.SpanId}";
        Assert.Equal(links.OrderBy(Key, StringComparer.Ordinal),
            (await ReadAll(Store.ReadSpanLinksAsync(CancellationToken.None))).OrderBy(Key, StringComparer.Ordinal));

        // The packed store behaves as the table did: a link it holds keeps its first sighting and its decision (the
        // writer sends a link seen again with its first sighting), another tenant's link is its own.
        var third = second.AddMinutes(1);
        var again = TestRecords.Batch();
        again.SpanLinks.Add(links[2] with { Expired = false });
        again.SpanLinks.Add(links[0] with { Tenant = "initech", SeenAt = third });
        await Store.WriteAsync(again, CancellationToken.None);
        var read = await ReadAll(Store.ReadSpanLinksAsync(CancellationToken.None));
        Assert.Equal(6, read.Count);
        Assert.Equal(links[2], read.Single(l => l is { Tenant: "acme", SpanId: "c0ffee0000000001" }));

        // A new decision is stored; the prune deletes the links seen before its time with the decisions on them.
        var expire = TestRecords.Batch();
        expire.ExpiredSpans.Add(new ExpiredSpan("initech", trace, links[0].SpanId, third));
        expire.PruneSpanLinksBefore = second;
        await Store.WriteAsync(expire, CancellationToken.None);
        Assert.Equal([links[3], links[4], links[0] with { Tenant = "initech", SeenAt = third, Expired = true }],
            (await ReadAll(Store.ReadSpanLinksAsync(CancellationToken.None))).OrderBy(Key, StringComparer.Ordinal));
        var empty = TestRecords.Batch();
        empty.PruneSpanLinksBefore = third.AddSeconds(1);
        await Store.WriteAsync(empty, CancellationToken.None);
        Assert.Empty(await ReadAll(Store.ReadSpanLinksAsync(CancellationToken.None)));
    }

    [Fact]
    public async Task Migration10_KeepsEveryInvocationAndItsReadsByTenantAgentAndTime()
    {
        // Invocations as migration 9 stored them: two tenants, two agents, three sharing one start time.
        var at = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        AgentInvocation[] stored =
        [
            TestRecords.Invocation(spanId: "00000000000000c3", start: at, tenant: "acme"),
            TestRecords.Invocation(spanId: "00000000000000a1", start: at, tenant: "acme", agent: "coder"),
            TestRecords.Invocation(spanId: "00000000000000b2", start: at, tenant: "acme"),
            TestRecords.Invocation(start: at.AddSeconds(-1), tenant: "acme"),
            TestRecords.Invocation(start: at.AddSeconds(1), tenant: "acme", agent: "coder"),
            TestRecords.Invocation(start: at, tenant: "globex"),
        ];
        var version9 = string.Join(";\n", stored.Select(i =>
            Insert("invocations", Columns.Invocation, i.Tenant, i.TraceId, i.SpanId, i.ParentSpanId, i.ServiceName,
                i.AgentName, i.AgentId, i.AgentType, i.TaskId, i.TaskType, i.JobId, i.ConversationId, i.Experiment,
                i.Variant, i.StartTime, i.DurationSeconds, i.Outcome, i.ErrorType, i.Confidence, i.Quality,
                i.Tokens.Input, i.Tokens.Output, i.Tokens.CacheRead, i.Tokens.CacheCreation, i.Tokens.Reasoning,
                i.CostUsd, i.AttributesJson, i.SampleWeight)));
        await Store.DisposeAsync();

        Store = await RecreateAtSchemaVersionAsync(9, version9);

        async Task<List<AgentInvocation>> Read(InvocationQuery query) =>
            [.. (await ReadInvocations(query)).Select(s => s.Invocation)];
        // Every read in start-time order, each tenant's and agent's with its own records only.
        Assert.Equal(stored.OrderBy(i => i.StartTime).ThenBy(i => i.Tenant + i.SpanId, StringComparer.Ordinal),
            (await Read(new InvocationQuery())).OrderBy(i => i.StartTime).ThenBy(i => i.Tenant + i.SpanId, StringComparer.Ordinal));
        var acme = await Read(new InvocationQuery { Tenant = "acme" });
        Assert.Equal(stored.Where(i => i.Tenant == "acme").OrderBy(i => i.StartTime).Select(i => i.StartTime),
            acme.Select(i => i.StartTime));
        Assert.Equal(stored.Where(i => i.Tenant == "acme").OrderBy(i => i.SpanId, StringComparer.Ordinal),
            acme.OrderBy(i => i.SpanId, StringComparer.Ordinal));
        Assert.Equal(stored.Where(i => i is { Tenant: "acme", AgentName: "coder" }).OrderBy(i => i.StartTime),
            await Read(new InvocationQuery { Tenant = "acme", AgentName = "coder" }));
        var planner = await Read(new InvocationQuery { Tenant = "acme", AgentName = "planner", Since = at });
        Assert.Equal([stored[2], stored[0]], planner.OrderBy(i => i.SpanId, StringComparer.Ordinal));
        Assert.Single(await Read(new InvocationQuery { Tenant = "globex" }));

        // New invocations after the migration are stored and read the same way.
        var later = TestRecords.Invocation(start: at.AddSeconds(2), tenant: "acme");
        Assert.Single((await Store.WriteAsync(TestRecords.Batch(later), CancellationToken.None)).Invocations);
        Assert.Equal(later, (await Read(new InvocationQuery { Tenant = "acme", Since = at.AddSeconds(2) })).Single());
    }

    [Fact]
    public async Task FeedbackOfAnotherTenantDoesNotJoin()
    {
        var invocation = TestRecords.Invocation(taskId: "shared-task", tenant: "acme");
        await Store.WriteAsync(TestRecords.Batch(invocation), CancellationToken.None);

        var result = await Store.AddFeedbackAsync(TestRecords.Feedback(taskId: "shared-task"), CancellationToken.None);

        Assert.False(result.Joined);
    }

    [Fact]
    public async Task RetentionDeletesWhatIsOlderThanTheConfiguredDaysOnTheInjectedClock()
    {
        var now = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var old = now.AddDays(-31);
        var recent = now.AddDays(-29);
        var oldInvocation = TestRecords.Invocation(start: old, taskId: "old");
        var recentInvocation = TestRecords.Invocation(start: recent, taskId: "recent");
        await Store.WriteAsync(TestRecords.Batch(
            oldInvocation,
            TestRecords.ProviderCall(oldInvocation.TraceId, oldInvocation.SpanId, null, new TokenCounts(1, 1, 0, 0, 0), 1, start: old),
            TestRecords.ToolCall(oldInvocation.TraceId, start: old),
            TestRecords.Evaluation(oldInvocation.TraceId, oldInvocation.SpanId, time: old),
            recentInvocation,
            TestRecords.ProviderCall(recentInvocation.TraceId, recentInvocation.SpanId, null, new TokenCounts(2, 2, 0, 0, 0), 2, start: recent),
            TestRecords.ToolCall(recentInvocation.TraceId, start: recent),
            TestRecords.Evaluation(recentInvocation.TraceId, recentInvocation.SpanId, time: recent)), CancellationToken.None);
        await Store.AddFeedbackAsync(TestRecords.Feedback(taskId: "old", receivedAt: old), CancellationToken.None);
        await Store.AddFeedbackAsync(TestRecords.Feedback(taskId: "recent", receivedAt: recent), CancellationToken.None);

        var retention = new RetentionService(Store, Options.Create(new StorageOptions { RetentionDays = 30 }),
            new FixedClock(now), NullLogger<RetentionService>.Instance);
        var deleted = await retention.SweepAsync(CancellationToken.None);

        Assert.Equal(5, deleted);
        var remaining = Assert.Single(await ReadInvocations());
        Assert.Equal(recentInvocation, remaining.Invocation);
        Assert.Equal("recent", remaining.Feedback?.TaskId);
        Assert.Single(await ReadAll(Store.ReadProviderCallsAsync(new InvocationQuery(), CancellationToken.None)));
        Assert.Single(await ReadAll(Store.ReadToolCallsAsync(new InvocationQuery(), CancellationToken.None)));
        Assert.Single(await ReadAll(Store.ReadEvaluationsAsync(new InvocationQuery(), CancellationToken.None)));
        Assert.Equal(0, await retention.SweepAsync(CancellationToken.None));
    }

    private static AlertRecord Alert(string id, string tenant, string agent, string metric, string level,
        DateTimeOffset since, DateTimeOffset? resolved = null, double value = 0.5) =>
        new(id, tenant, agent, "1h", metric, level, value, 0.8, "<", $"{metric} {value}", "Look at it.", since, resolved);

    [Fact]
    public async Task AlertHistory_keeps_open_and_resolved_alerts_filtered_newest_first_across_reopening()
    {
        var t0 = new DateTimeOffset(2026, 6, 1, 22, 0, 0, TimeSpan.Zero);
        var history = Assert.IsAssignableFrom<IAlertHistoryStore>(Store);
        await history.SaveAlertsAsync(
        [
            Alert("a1", "acme", "triage", "success_rate", "critical", t0),
            Alert("a2", "acme", "writer", "latency_p95", "warning", t0.AddMinutes(5)),
            Alert("a3", "acme", "triage", "error_rate", "warning", t0.AddMinutes(10)),
            Alert("g1", "globex", "triage", "success_rate", "critical", t0),
        ], CancellationToken.None);
        // a1 and a3 resolve later, a1 with the value it last had; saving again updates, never duplicates.
        await history.SaveAlertsAsync(
        [
            Alert("a1", "acme", "triage", "success_rate", "critical", t0, resolved: t0.AddHours(2), value: 0.4),
            Alert("a3", "acme", "triage", "error_rate", "warning", t0.AddMinutes(10), resolved: t0.AddHours(3)),
        ], CancellationToken.None);

        var resolved = await ReadAll(history.ReadAlertsAsync(new AlertQuery { Tenant = "acme", ResolvedSince = t0 }, CancellationToken.None));
        Assert.Equal(["a3", "a1"], resolved.Select(a => a.Id));
        Assert.Equal(Alert("a1", "acme", "triage", "success_rate", "critical", t0, resolved: t0.AddHours(2), value: 0.4), resolved[1]);
        Assert.Equal(["a1"], (await ReadAll(history.ReadAlertsAsync(
            new AlertQuery { Tenant = "acme", ResolvedSince = t0, Level = "critical" }, CancellationToken.None))).Select(a => a.Id));
        Assert.Equal(["a3"], (await ReadAll(history.ReadAlertsAsync(
            new AlertQuery { Tenant = "acme", ResolvedSince = t0.AddHours(2.5) }, CancellationToken.None))).Select(a => a.Id));
        Assert.Equal(["a3"], (await ReadAll(history.ReadAlertsAsync(
            new AlertQuery { Tenant = "acme", ResolvedSince = t0, Limit = 1 }, CancellationToken.None))).Select(a => a.Id));
        Assert.Empty(await ReadAll(history.ReadAlertsAsync(
            new AlertQuery { Tenant = "acme", ResolvedSince = t0, Agent = "writer" }, CancellationToken.None)));
        Assert.Equal(["a2"], (await ReadAll(history.ReadAlertsAsync(
            new AlertQuery { Tenant = "acme", Open = true, Metric = "latency_p95" }, CancellationToken.None))).Select(a => a.Id));

        // After a restart the open alerts are there to resume, start times exact.
        await Store.DisposeAsync();
        Store = await OpenStoreAsync();
        var reopened = Assert.IsAssignableFrom<IAlertHistoryStore>(Store);
        var open = await ReadAll(reopened.ReadOpenAlertsAsync(CancellationToken.None));
        Assert.Equal([Alert("g1", "globex", "triage", "success_rate", "critical", t0), Alert("a2", "acme", "writer", "latency_p95", "warning", t0.AddMinutes(5))],
            open.OrderBy(a => a.ActiveSince).ThenBy(a => a.Id, StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task Retention_deletes_alerts_resolved_before_the_cutoff_and_keeps_open_ones()
    {
        var now = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var history = Assert.IsAssignableFrom<IAlertHistoryStore>(Store);
        await history.SaveAlertsAsync(
        [
            Alert("old", "acme", "triage", "success_rate", "critical", now.AddDays(-32), resolved: now.AddDays(-31)),
            Alert("recent", "acme", "triage", "success_rate", "critical", now.AddDays(-30), resolved: now.AddDays(-29)),
            Alert("open", "acme", "writer", "success_rate", "critical", now.AddDays(-40)),
        ], CancellationToken.None);

        var retention = new RetentionService(Store, Options.Create(new StorageOptions { RetentionDays = 30 }),
            new FixedClock(now), NullLogger<RetentionService>.Instance);
        Assert.Equal(1, await retention.SweepAsync(CancellationToken.None));

        Assert.Equal(["recent"], (await ReadAll(history.ReadAlertsAsync(
            new AlertQuery { Tenant = "acme", ResolvedSince = DateTimeOffset.UnixEpoch }, CancellationToken.None))).Select(a => a.Id));
        Assert.Equal(["open"], (await ReadAll(history.ReadOpenAlertsAsync(CancellationToken.None))).Select(a => a.Id));
    }

    [Fact]
    public async Task QueriesFilterByTenantAgentAndTimeAndKeepStartTimeOrder()
    {
        var t0 = TestRecords.Start;
        var records = new[]
        {
            TestRecords.Invocation(start: t0.AddSeconds(3), agent: "planner"),
            TestRecords.Invocation(start: t0.AddSeconds(1), agent: "planner"),
            TestRecords.Invocation(start: t0.AddSeconds(2), agent: "coder"),
            TestRecords.Invocation(start: t0.AddSeconds(4), agent: "planner", tenant: "acme"),
        };
        await Store.WriteAsync(TestRecords.Batch(records), CancellationToken.None);

        var planner = await ReadInvocations(new InvocationQuery { Tenant = "default", AgentName = "planner" });
        Assert.Equal([t0.AddSeconds(1), t0.AddSeconds(3)], planner.Select(s => s.Invocation.StartTime));
        var window = await ReadInvocations(new InvocationQuery { Since = t0.AddSeconds(2), Until = t0.AddSeconds(4) });
        Assert.Equal([t0.AddSeconds(2), t0.AddSeconds(3)], window.Select(s => s.Invocation.StartTime));
        var limited = await ReadInvocations(new InvocationQuery { Limit = 2 });
        Assert.Equal([t0.AddSeconds(1), t0.AddSeconds(2)], limited.Select(s => s.Invocation.StartTime));
    }

    [Fact]
    public async Task ManyConcurrentWritersAreAllCommittedExactlyOnce()
    {
        const int writers = 16, batchesPerWriter = 10, invocationsPerBatch = 25;
        var tasks = Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            for (var b = 0; b < batchesPerWriter; b++)
            {
                var batch = new IngestBatch();
                for (var i = 0; i < invocationsPerBatch; i++)
                {
                    var invocation = TestRecords.Invocation();
                    batch.Invocations.Add(invocation);
                    batch.ProviderCalls.Add(TestRecords.ProviderCall(invocation.TraceId, invocation.SpanId, invocation.SpanId, new TokenCounts(1, 1, 0, 0, 0), 0.01));
                    batch.ProviderCalls.Add(TestRecords.ProviderCall(invocation.TraceId, invocation.SpanId, invocation.SpanId, new TokenCounts(1, 1, 0, 0, 0), 0.01));
                    batch.ToolCalls.Add(TestRecords.ToolCall(invocation.TraceId));
                }

                await Store.WriteAsync(batch, CancellationToken.None);
            }
        })).ToArray();
        await Task.WhenAll(tasks);

        const int expectedInvocations = writers * batchesPerWriter * invocationsPerBatch;
        var invocations = await ReadInvocations();
        Assert.Equal(expectedInvocations, invocations.Count);
        Assert.All(invocations, s => Assert.Equal(new TokenCounts(2, 2, 0, 0, 0), s.RolledUpTokens));
        Assert.Equal(2 * expectedInvocations, (await ReadAll(Store.ReadProviderCallsAsync(new InvocationQuery(), CancellationToken.None))).Count);
        Assert.Equal(expectedInvocations, (await ReadAll(Store.ReadToolCallsAsync(new InvocationQuery(), CancellationToken.None))).Count);
    }

    [Fact]
    public async Task InitializingAgainOnTheSameDatabaseKeepsTheDataAndSchema()
    {
        var invocation = TestRecords.Invocation();
        await Store.WriteAsync(TestRecords.Batch(invocation), CancellationToken.None);
        await Store.DisposeAsync();

        Store = await OpenStoreAsync();

        Assert.Equal(invocation, Assert.Single(await ReadInvocations()).Invocation);
    }

    [Fact]
    public async Task ExportStreamsTheTenantsInvocationsAsNdjsonOverHttp()
    {
        await using var factory = CreateHost();
        var store = factory.Services.GetRequiredService<IExecutionStore>();
        var early = TestRecords.Invocation(start: TestRecords.Start, taskId: "early");
        var late = TestRecords.Invocation(start: TestRecords.Start.AddHours(1), taskId: "late");
        var otherTenant = TestRecords.Invocation(start: TestRecords.Start.AddHours(2), tenant: "acme");
        var call = TestRecords.ProviderCall(late.TraceId, late.SpanId, late.SpanId, new TokenCounts(40, 2, 0, 0, 0), 0.125, unpriced: 0);
        await store.WriteAsync(TestRecords.Batch(early, late, otherTenant, call), CancellationToken.None);
        await store.AddFeedbackAsync(TestRecords.Feedback(taskId: "late"), CancellationToken.None);
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(
            $"{ExportEndpoint.Route}?since={Uri.EscapeDataString("2026-03-14T09:30:00+00:00")}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("\n", body, StringComparison.Ordinal);
        var line = Assert.Single(body.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal(late.SpanId, root.GetProperty("spanId").GetString());
        Assert.Equal("late", root.GetProperty("taskId").GetString());
        Assert.Equal("2026-03-14T10:26:53.589000Z", root.GetProperty("startTime").GetString());
        Assert.Equal(40, root.GetProperty("rollUp").GetProperty("tokens").GetProperty("input").GetInt64());
        Assert.Equal(0.125, root.GetProperty("rollUp").GetProperty("costUsd").GetDouble());
        Assert.Equal(0.875, root.GetProperty("feedback").GetProperty("accuracy").GetDouble());
        Assert.Equal(80, root.GetProperty("feedback").GetProperty("actual").GetProperty("amount").GetInt32());
        Assert.Equal("eu", root.GetProperty("attributes").GetProperty("region").GetString());

        using var everything = await client.GetAsync(ExportEndpoint.Route);
        Assert.Equal(2, (await everything.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2026-03-14")]
    [InlineData("2026-03-14T09:30:00")]
    [InlineData("2026-13-14T09:30:00Z")]
    [InlineData("")]
    public async Task ExportRejectsATimestampThatIsNotRfc3339(string since)
    {
        await using var factory = CreateHost();
        using var client = factory.CreateClient();

        using var response = await client.GetAsync($"{ExportEndpoint.Route}?since={Uri.EscapeDataString(since)}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("since", json.RootElement.GetProperty("field").GetString());
    }

    // Retention off in the host: its start-up sweep runs on the real clock and would delete the fixed-date test data.
    protected WebApplicationFactory<Program> CreateHost(params KeyValuePair<string, string?>[] settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
            builder.ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(
                HostSettings.Append(new("Storage:RetentionDays", "0")).Concat(settings))));

    /// <summary>
    /// Empties this test's database (its store is already disposed), applies the migrations up to
    /// <paramref name="version"/> only, runs <paramref name="sql"/> on it, then opens the store, which migrates the rest.
    /// </summary>
    protected abstract Task<IExecutionStore> RecreateAtSchemaVersionAsync(int version, string sql);

    /// <summary>The time index of provider calls, tool calls or evaluations (on SQLite keyed by the second since migration 20).</summary>
    protected virtual string TimeIndex(string table) => table == "evaluations" ? "ix_evaluations_time" : $"ix_{table}_start";

    /// <summary>A timestamp as this provider's SQL literal.</summary>
    protected abstract string TimeLiteral(DateTimeOffset time);

    private string Insert(string table, string columns, params object?[] values) =>
        $"INSERT INTO {table} ({columns}) VALUES ({string.Join(", ", values.Select(Literal))})";

    private string FeedbackInsert(FeedbackRecord f, AgentInvocation? joinedTo) =>
        Insert("feedback", Columns.FeedbackInsert + ", invocation_trace_id, invocation_span_id", f.Tenant, f.FeedbackId,
            f.TaskId, f.TraceId, f.SpanId, f.Success, f.Score, f.PredictedJson, f.ActualJson, f.Accuracy, f.ReceivedAt,
            joinedTo?.TraceId, joinedTo?.SpanId);

    private string Literal(object? value) => value switch
    {
        null => "NULL",
        string text => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'",
        bool flag => flag ? "TRUE" : "FALSE",
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        DateTimeOffset time => TimeLiteral(time),
        IFormattable integer => integer.ToString(null, CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"no literal for {value.GetType()}"),
    };

    protected Task<List<StoredInvocation>> ReadInvocations(InvocationQuery? query = null) =>
        ReadAll(Store.ReadInvocationsAsync(query ?? new InvocationQuery(), CancellationToken.None));

    protected static async Task<List<T>> ReadAll<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source)
        {
            list.Add(item);
        }

        return list;
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
