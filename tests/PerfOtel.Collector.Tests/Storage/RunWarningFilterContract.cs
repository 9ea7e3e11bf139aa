using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Derived.Runs;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// The run list's <c>warning=</c> filter, evaluated by the store over the call summary its writer keeps (migration 11),
/// against the per-run rules of the one-run route (<see cref="RunWarnings.Of"/>), on each store: hand-built runs that
/// meet every warning and its near misses, calls stored before their invocation, calls re-owned by attribution after
/// their invocation was stored, and another tenant's run; each threshold warning both through its newest-first walk and
/// through its value index (the two steps of <c>RunSql.SearchAsync</c>).
/// </summary>
public abstract partial class ExecutionStoreContract
{
    [Fact]
    public async Task RunList_WarningFilter_SelectsExactlyTheRunsTheRulesWarnAbout()
    {
        await using var host = CreateHost();
        var runs = await WarningRuns.WriteAsync(host);
        using var client = host.CreateClient();

        // Every run of the tenant and the warnings the one-run route gives it.
        var all = await PagedSpansAsync(client, "", 500);
        Assert.Equal(runs.Tenants.Count, all.Count);
        var warnedBy = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var span in all)
        {
            var run = (await GetJsonAsync(client, $"/api/v1/invocations/{runs.Trace}/{span}")).GetProperty("invocation");
            foreach (var warning in run.GetProperty("run").GetProperty("warnings").EnumerateArray())
            {
                var name = warning.GetProperty("name").GetString()!;
                (warnedBy.TryGetValue(name, out var set) ? set : warnedBy[name] = []).Add(span);
            }
        }

        // The default walk reads the whole trace in its first step; one run per result makes the value index answer.
        foreach (var (warning, rowsPerResult) in RunWarnings.All.SelectMany(w => new[] { (w, 40), (w, 1) }))
        {
            RunSql.TimeWalkRowsPerResult = rowsPerResult;
            // Two runs a page: the cursor pages through the filtered list, newest first, nothing repeated or skipped.
            List<string> listed;
            try
            {
                listed = await PagedSpansAsync(client, "warning=" + warning + "&", 2);
            }
            finally
            {
                RunSql.TimeWalkRowsPerResult = 40;
            }

            var expected = all.Where(s => warnedBy.GetValueOrDefault(warning)?.Contains(s) == true).ToList();
            Assert.True(expected.SequenceEqual(listed),
                $"{warning} ({rowsPerResult} rows walked per result): the list gives [{string.Join(", ", listed.Select(runs.Name))}], the rules " +
                $"[{string.Join(", ", expected.Select(runs.Name))}]");
            // And the rules warn about the runs built for it, and not about its near misses.
            Assert.All(runs.Meets[warning], s => Assert.Contains(s, listed));
            Assert.All(runs.Misses[warning], s => Assert.DoesNotContain(s, listed));
        }

        // An agent's page with a warning: that agent's runs only.
        var slowpoke = await PagedSpansAsync(client, "agent=slowpoke&", 500);
        var slowOfSlowpoke = all.Where(s => slowpoke.Contains(s) && warnedBy[RunWarnings.SlowExecution].Contains(s)).ToList();
        Assert.Contains(runs.Span["slow"], slowOfSlowpoke);
        Assert.Equal(slowOfSlowpoke, await PagedSpansAsync(client, "agent=slowpoke&warning=slow_execution&", 50));
    }

    private static async Task<List<string>> PagedSpansAsync(HttpClient client, string query, int limit)
    {
        var spans = new List<string>();
        string? cursor = null;
        do
        {
            var page = await GetJsonAsync(client, $"/api/v1/invocations?{query}limit={limit}" +
                (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            spans.AddRange(Spans(page).Select(s => s!));
            cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null ? null : page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        return spans;
    }

    /// <summary>
    /// One trace of runs, one a second over the last few minutes (so the analytics windows hold them and give agent
    /// <c>slowpoke</c> a p95 near 20 s), default thresholds: confidence below 0.5, tokens above 5 000, quality below
    /// 0.7, accuracy below 0.7, retries above 2.
    /// </summary>
    private sealed record WarningRuns(string Trace, Dictionary<string, string> Span, Dictionary<string, string> Tenants,
        Dictionary<string, List<string>> Meets, Dictionary<string, List<string>> Misses)
    {
        public string Name(string span) => Span.FirstOrDefault(p => p.Value == span).Key ?? span;

        public static async Task<WarningRuns> WriteAsync(WebApplicationFactory<Program> host)
        {
            var store = host.Services.GetRequiredService<IExecutionStore>();
            var pipeline = host.Services.GetRequiredService<DerivationPipeline>();
            var trace = TestRecords.TraceId();
            var t0 = DateTimeOffset.UtcNow.AddMinutes(-10);
            var names = new[]
            {
                "plain", "low-confidence", "confidence-at-threshold", "tokens-by-calls", "tokens-on-span",
                "span-tokens-ignored", "slow", "quality", "accuracy", "accuracy-superseded", "failed-feedback",
                "retries", "two-retries", "fallback", "unpriced", "calls-first", "reowned", "reowned-away", "reowned-to",
            };
            var span = names.ToDictionary(n => n, _ => TestRecords.SpanId(), StringComparer.Ordinal);
            var at = names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => t0.AddSeconds(p.i), StringComparer.Ordinal);
            AgentInvocation Run(string name, string agent = "steady") => TestRecords.Invocation(trace, span[name], start: at[name],
                agent: agent) with
            {
                ParentSpanId = null, DurationSeconds = 1, Outcome = Outcomes.Success, ErrorType = null, Confidence = 0.9,
                Quality = 0.9, Tokens = new TokenCounts(100, 50, 0, 0, 0), CostUsd = null,
            };
            ProviderCall Call(string owner, long input = 100, long output = 10) =>
                TestRecords.ProviderCall(trace, span[owner], span[owner], new TokenCounts(input, output, 0, 0, 0), 0.001,
                    start: at[owner].AddMilliseconds(100)) with
                {
                    Attempt = 1, FallbackFrom = null, FallbackReason = null, AgentName = null,
                };
            async Task WriteAsync(IngestBatch batch)
            {
                var committed = await store.WriteAsync(batch, CancellationToken.None);
                pipeline.Apply(committed);
            }

            // Agent slowpoke: twenty runs of 1 to 20 s before the slow one, so its p95 is about 20 s and 30 s is slow.
            var slowpoke = Enumerable.Range(0, 20).Select(i => TestRecords.Invocation(trace, start: t0.AddMilliseconds(-1000 - i),
                agent: "slowpoke") with
            {
                ParentSpanId = null, DurationSeconds = i + 1, Outcome = Outcomes.Success, ErrorType = null, Confidence = null,
                Quality = null, Tokens = default, CostUsd = null,
            }).ToList();
            var reownedChain = TestRecords.SpanId();
            var batch1 = TestRecords.Batch([.. slowpoke,
                Run("plain"), Call("plain"),
                Run("low-confidence") with { Confidence = 0.3 },
                Run("confidence-at-threshold") with { Confidence = 0.5 },
                Run("tokens-by-calls"), Call("tokens-by-calls", 3000, 0), Call("tokens-by-calls", 2400, 100),
                Run("tokens-on-span") with { Tokens = new TokenCounts(5000, 1, 0, 0, 0) },
                Run("span-tokens-ignored") with { Tokens = new TokenCounts(9000, 0, 0, 0, 0) }, Call("span-tokens-ignored"),
                Run("slow", "slowpoke") with { DurationSeconds = 30 },
                Run("quality") with { Quality = 0.4 },
                Run("accuracy"), Run("accuracy-superseded") with { Quality = null }, Run("failed-feedback") with { Quality = null },
                Run("retries"), Call("retries") with { Attempt = 2 }, Call("retries") with { Attempt = 3 },
                Call("retries") with { Attempt = 4 },
                Run("two-retries"), Call("two-retries") with { Attempt = 2 }, Call("two-retries") with { Attempt = 3 },
                Run("fallback"), Call("fallback") with { FallbackFrom = "gpt-4o", FallbackReason = "rate_limited" },
                Run("unpriced"), Call("unpriced") with { CostUsd = null, UnpricedTokens = 110 },
                // Calls sent before their invoke_agent: one a child of the invocation's span, the others under a chain
                // span that only attribution will tie to it.
                Call("calls-first") with { InvocationSpanId = null, FallbackFrom = "gpt-4o", FallbackReason = "rate_limited" },
                Call("reowned", 6000) with { InvocationSpanId = null, ParentSpanId = reownedChain, Attempt = 2, UnpricedTokens = 10 },
                Call("reowned") with { InvocationSpanId = null, ParentSpanId = reownedChain, Attempt = 3 },
                Call("reowned") with { InvocationSpanId = null, ParentSpanId = reownedChain, Attempt = 4 },
                // A call first taken for one invocation's, then attributed to another.
                Run("reowned-away"), Call("reowned-away") with { FallbackFrom = "gpt-4o", FallbackReason = "rate_limited" },
                Run("reowned-to"),
                // Another tenant's run, with every warning it can have: never in this tenant's list.
                TestRecords.Invocation(trace, start: t0, tenant: "acme") with { Confidence = 0.1, Quality = 0.1 },
            ]);
            var reownedAwayCall = batch1.ProviderCalls.Single(c => c.ParentSpanId == span["reowned-away"]).SpanId;
            var chainCalls = batch1.ProviderCalls.Where(c => c.ParentSpanId == reownedChain).Select(c => c.SpanId).ToList();
            await WriteAsync(batch1);

            // Later requests: the invoke_agent spans, and attribution re-owning the stored calls.
            var batch2 = TestRecords.Batch(Run("calls-first"), Run("reowned"));
            foreach (var call in chainCalls)
            {
                batch2.Attributions.Add(new AttributionUpdate("default", trace, call, span["reowned"], "steady"));
            }
            Assert.Equal(3, chainCalls.Count);
            batch2.Attributions.Add(new AttributionUpdate("default", trace, reownedAwayCall, span["reowned-to"], "steady"));
            await WriteAsync(batch2);

            // Feedback: accuracy 0.2; 0.2 then 0.9 (the latest counts); a failure with neither accuracy nor score.
            async Task FeedbackAsync(string name, double? accuracy, bool? success, int second) =>
                await store.AddFeedbackAsync(TestRecords.Feedback(traceId: trace, spanId: span[name],
                    receivedAt: t0.AddMinutes(1).AddSeconds(second)) with { Accuracy = accuracy, Score = null, Success = success },
                    CancellationToken.None);
            await FeedbackAsync("accuracy", 0.2, true, 0);
            await FeedbackAsync("accuracy-superseded", 0.2, true, 1);
            await FeedbackAsync("accuracy-superseded", 0.9, true, 2);
            await FeedbackAsync("failed-feedback", null, false, 3);

            var tenants = span.Values.Concat(slowpoke.Select(s => s.SpanId)).ToDictionary(s => s, _ => "default");
            var meets = new Dictionary<string, List<string>>
            {
                [RunWarnings.LowConfidence] = [span["low-confidence"]],
                [RunWarnings.HighTokenUsage] = [span["tokens-by-calls"], span["tokens-on-span"], span["reowned"]],
                [RunWarnings.SlowExecution] = [span["slow"]],
                [RunWarnings.QualityConcern] = [span["quality"], span["accuracy"], span["failed-feedback"]],
                [RunWarnings.ManyRetries] = [span["retries"], span["reowned"]],
                [RunWarnings.FallbackUsed] = [span["fallback"], span["calls-first"], span["reowned-to"]],
                [RunWarnings.UnpricedModel] = [span["unpriced"], span["reowned"]],
            };
            var misses = new Dictionary<string, List<string>>
            {
                [RunWarnings.LowConfidence] = [span["confidence-at-threshold"], span["plain"]],
                [RunWarnings.HighTokenUsage] = [span["span-tokens-ignored"], span["plain"]],
                [RunWarnings.SlowExecution] = [.. slowpoke.Where(s => s.DurationSeconds <= 10).Select(s => s.SpanId)],
                [RunWarnings.QualityConcern] = [span["accuracy-superseded"], span["plain"]],
                [RunWarnings.ManyRetries] = [span["two-retries"], span["plain"]],
                [RunWarnings.FallbackUsed] = [span["reowned-away"], span["plain"]],
                [RunWarnings.UnpricedModel] = [span["plain"], span["fallback"]],
            };
            return new WarningRuns(trace, span, tenants, meets, misses);
        }
    }
}

public abstract partial class ExecutionStoreContract
{
    [Fact]
    public async Task Migration11_BackFillsTheCallSummaryOfRunsStoredBefore_AndTheWriterKeepsItAfterwards()
    {
        // A database at version 10: run A with three calls (two retried, one of them a fallback, one unpriced), run B
        // with none, and another tenant's copy of A's ids with a fallback call of its own.
        var a = TestRecords.Invocation(tenant: "default") with { Confidence = null, Quality = null };
        var b = TestRecords.Invocation(tenant: "default", start: a.StartTime.AddSeconds(1)) with { Confidence = null, Quality = null };
        var calls = new[]
        {
            TestRecords.ProviderCall(a.TraceId, a.SpanId, a.SpanId, new TokenCounts(4000, 500, 0, 0, 0), null, unpriced: 4500) with { Attempt = 1, FallbackFrom = null },
            TestRecords.ProviderCall(a.TraceId, a.SpanId, a.SpanId, new TokenCounts(400, 50, 0, 0, 0), 0.01) with { Attempt = 2, FallbackFrom = "gpt-4o" },
            TestRecords.ProviderCall(a.TraceId, a.SpanId, a.SpanId, new TokenCounts(400, 50, 0, 0, 0), 0.01) with { Attempt = 3, FallbackFrom = null },
            TestRecords.ProviderCall(a.TraceId, a.SpanId, a.SpanId, new TokenCounts(1, 1, 0, 0, 0), 0.01) with { Tenant = "acme", Attempt = 1 },
        };
        string InsertInvocation(AgentInvocation i) => Insert("invocations", Columns.Invocation, i.Tenant, i.TraceId, i.SpanId,
            i.ParentSpanId, i.ServiceName, i.AgentName, i.AgentId, i.AgentType, i.TaskId, i.TaskType, i.JobId, i.ConversationId,
            i.Experiment, i.Variant, i.StartTime, i.DurationSeconds, i.Outcome, i.ErrorType, i.Confidence, i.Quality,
            i.Tokens.Input, i.Tokens.Output, i.Tokens.CacheRead, i.Tokens.CacheCreation, i.Tokens.Reasoning, i.CostUsd,
            i.AttributesJson, i.SampleWeight);
        string InsertCall(ProviderCall c) => Insert("provider_calls", Columns.ProviderCallInsert, c.Tenant, c.TraceId, c.SpanId,
            c.ParentSpanId, c.InvocationSpanId, c.InvocationSpanId, c.AgentName, c.Operation, c.Provider, c.RequestModel,
            c.ResponseModel, c.StartTime, c.DurationSeconds, c.Tokens.Input, c.Tokens.Output, c.Tokens.CacheRead,
            c.Tokens.CacheCreation, c.Tokens.Reasoning, c.CostUsd, c.UnpricedTokens, c.Attempt, c.FallbackFrom,
            c.FallbackReason, c.ErrorType, c.SampleWeight);
        await Store.DisposeAsync();
        Store = await RecreateAtSchemaVersionAsync(10, string.Join(";\n",
            [InsertInvocation(a), InsertInvocation(b), InsertInvocation(a with { Tenant = "acme" }), .. calls.Select(InsertCall)]));
        var runs = (IRunStore)Store;

        // A: 5 400 tokens, two retries, a fallback, unpriced tokens; B: its span's 30 tokens.
        var row = Assert.Single(await runs.SearchRunsAsync(new RunSearch { Tenant = "default", TraceId = a.TraceId, Limit = 10 },
            CancellationToken.None), r => r.Stored.Invocation.SpanId == a.SpanId);
        Assert.Equal(new CallSummary(3, 2, 1, 0, 3), row.Calls);
        Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.HighTokenUsage));
        Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.FallbackUsed));
        Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.UnpricedModel));
        Assert.Empty(await WarnedAsync(RunWarnings.ManyRetries));
        Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.ManyRetries, new ThresholdSet { MaxRunRetries = 1 }));

        // After the migration the writer carries on from the back-filled figures: a third retry makes A's many.
        await Store.WriteAsync(TestRecords.Batch(
            TestRecords.ProviderCall(a.TraceId, a.SpanId, a.SpanId, new TokenCounts(1, 1, 0, 0, 0), 0.01) with { Attempt = 4, FallbackFrom = null }),
            CancellationToken.None);
        Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.ManyRetries));
    }
}

public abstract partial class ExecutionStoreContract
{
    [Fact]
    public async Task RunList_CallSummary_FollowsRetentionAndCallsOfAStoredInvocation()
    {
        // Run A is stored first; two calls come later in separate writes (one unpriced and a fallback, one retried)
        // and one of them started before its run, so retention deletes it while A stays.
        var now = DateTimeOffset.UtcNow;
        var a = TestRecords.Invocation(start: now.AddMinutes(-10)) with { Confidence = null, Quality = null };
        var early = TestRecords.ProviderCall(a.TraceId, a.SpanId, a.SpanId, new TokenCounts(3000, 0, 0, 0, 0), null,
            unpriced: 3000, start: now.AddMinutes(-20)) with { Attempt = 1, FallbackFrom = "gpt-4o" };
        var late = TestRecords.ProviderCall(a.TraceId, a.SpanId, a.SpanId, new TokenCounts(2500, 0, 0, 0, 0), 0.01,
            start: now.AddMinutes(-9)) with { Attempt = 2, FallbackFrom = null };
        await Store.WriteAsync(TestRecords.Batch(a), CancellationToken.None);
        await Store.WriteAsync(TestRecords.Batch(early), CancellationToken.None);
        await Store.WriteAsync(TestRecords.Batch(late, early), CancellationToken.None);

        // Both calls joined A's summary once (the resent one adds nothing): 5 500 tokens, a fallback, unpriced, a retry.
        Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.HighTokenUsage));
        Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.FallbackUsed));
        Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.UnpricedModel));
        Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.ManyRetries, new ThresholdSet { MaxRunRetries = 0 }));

        // Retention takes the early call and its share of A's summary with it: 2 500 tokens, no fallback, priced.
        await Store.DeleteOlderThanAsync(now.AddMinutes(-15), CancellationToken.None);
        Assert.Empty(await WarnedAsync(RunWarnings.HighTokenUsage));
        Assert.Empty(await WarnedAsync(RunWarnings.FallbackUsed));
        Assert.Empty(await WarnedAsync(RunWarnings.UnpricedModel));
        Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.ManyRetries, new ThresholdSet { MaxRunRetries = 0 }));
        Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.HighTokenUsage, new ThresholdSet { MaxTokensPerInvocation = 2000 }));
    }
}

public abstract partial class ExecutionStoreContract
{
    [Fact]
    public async Task RunList_CallSummary_CountsANewCallResentWithItsStoredInvocation_Once()
    {
        // Run A and its first call are stored together. A client then resends A in a batch with that call again and a
        // second call never sent before (a fallback, unpriced, retried), and later resends all three: the summary must
        // gain the new call once and nothing from the resends (on PostgreSQL a batch whose calls all belong to its own
        // invocations takes the path that recounts the invocations stored before).
        var a = TestRecords.Invocation() with { Confidence = null, Quality = null };
        var first = TestRecords.ProviderCall(a.TraceId, a.SpanId, a.SpanId, new TokenCounts(2000, 0, 0, 0, 0), 0.01)
            with { Attempt = 1, FallbackFrom = null };
        var second = TestRecords.ProviderCall(a.TraceId, a.SpanId, a.SpanId, new TokenCounts(3000, 500, 0, 0, 0), null,
            unpriced: 3500) with { Attempt = 2, FallbackFrom = "gpt-4o" };

        await Store.WriteAsync(TestRecords.Batch(a, first), CancellationToken.None);
        Assert.Empty(await WarnedAsync(RunWarnings.FallbackUsed));
        Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.HighTokenUsage, new ThresholdSet { MaxTokensPerInvocation = 1999 }));
        Assert.Empty(await WarnedAsync(RunWarnings.HighTokenUsage, new ThresholdSet { MaxTokensPerInvocation = 2000 }));

        for (var resend = 0; resend < 2; resend++)
        {
            var written = await Store.WriteAsync(resend == 0 ? TestRecords.Batch(a, first, second) : TestRecords.Batch(second, a, first),
                CancellationToken.None);
            Assert.Empty(written.Invocations);

            // 5 500 tokens exactly (not 7 500 or 9 000), one fallback, unpriced tokens, one retry (not two).
            Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.HighTokenUsage, new ThresholdSet { MaxTokensPerInvocation = 5499 }));
            Assert.Empty(await WarnedAsync(RunWarnings.HighTokenUsage, new ThresholdSet { MaxTokensPerInvocation = 5500 }));
            Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.FallbackUsed));
            Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.UnpricedModel));
            Assert.Equal([a.SpanId], await WarnedAsync(RunWarnings.ManyRetries, new ThresholdSet { MaxRunRetries = 0 }));
            Assert.Empty(await WarnedAsync(RunWarnings.ManyRetries, new ThresholdSet { MaxRunRetries = 1 }));
        }
    }
}

public abstract partial class ExecutionStoreContract
{
    /// <summary>The span ids of the default tenant's runs the store selects for one warning (first page of 10).</summary>
    private async Task<List<string>> WarnedAsync(string warning, ThresholdSet? thresholds = null) =>
        [.. (await ((IRunStore)Store).SearchRunsAsync(new RunSearch
        {
            Tenant = "default", Limit = 10,
            Warning = RunWarnings.StoreFilter(warning, thresholds ?? new(), []),
        }, CancellationToken.None)).Select(r => r.Stored.Invocation.SpanId)];
}

public abstract partial class ExecutionStoreContract
{
    /// <summary>The key columns of one index in order (an expression's as null), INCLUDE columns left out.</summary>
    protected abstract Task<List<string?>> IndexKeyColumnsAsync(string index);

    /// <summary>The partial index of the low_confidence or high_token_usage warning and its key columns (an expression's as null).</summary>
    protected virtual (string Index, List<string?> Columns) WarningIndex(string warning) =>
        warning == RunWarnings.LowConfidence
            ? ("ix_invocations_tenant_low_confidence_start", ["tenant", "start_time", "span_id", "trace_id", "confidence"])
            : ("ix_invocations_tenant_high_tokens_start", ["tenant", "start_time", "span_id", "trace_id", null]);

    [Fact]
    public async Task Migration13_PutsTheComparedValueLastInTheWarningIndexes_AndTheStricterPagesStayExact()
    {
        // A database at version 12: runs around the stricter thresholds (confidence 0.2, 10 000 tokens) and the
        // indexes' bounds (0.5, 5 000), the tokens of one run from its calls' summary (its span's own 30 are ignored),
        // and another tenant's run that would meet both.
        var start = TestRecords.Start;
        AgentInvocation Run(int second, double? confidence, long input, string tenant = "default") =>
            TestRecords.Invocation(tenant: tenant, start: start.AddSeconds(second)) with
            {
                Confidence = confidence, Quality = null, Tokens = new TokenCounts(input, 0, 0, 0, 0),
            };
        var runs = new[]
        {
            Run(1, 0.05, 100), Run(2, 0.2, 100), Run(3, 0.15, 9999), Run(4, 0.5, 10001), Run(5, null, 20000),
            Run(6, 0.35, 30), Run(7, 0.01, 50000, tenant: "acme"),
        };
        string InsertInvocation(AgentInvocation i) => Insert("invocations", Columns.Invocation, i.Tenant, i.TraceId, i.SpanId,
            i.ParentSpanId, i.ServiceName, i.AgentName, i.AgentId, i.AgentType, i.TaskId, i.TaskType, i.JobId, i.ConversationId,
            i.Experiment, i.Variant, i.StartTime, i.DurationSeconds, i.Outcome, i.ErrorType, i.Confidence, i.Quality,
            i.Tokens.Input, i.Tokens.Output, i.Tokens.CacheRead, i.Tokens.CacheCreation, i.Tokens.Reasoning, i.CostUsd,
            i.AttributesJson, i.SampleWeight);
        await Store.DisposeAsync();
        Store = await RecreateAtSchemaVersionAsync(12, string.Join(";\n",
        [
            .. runs.Select(InsertInvocation),
            $"UPDATE invocations SET call_count = 2, call_tokens = 12000 WHERE span_id = {Literal(runs[5].SpanId)}",
        ]));

        // The same partial indexes, the compared value (confidence; the run's tokens by the roll-up rule) last; on SQLite
        // since its migration 21 keyed (tenant, second) instead (WarningIndex), the value tested on the row.
        foreach (var warning in new[] { RunWarnings.LowConfidence, RunWarnings.HighTokenUsage })
        {
            var (index, columns) = WarningIndex(warning);
            Assert.Equal(columns, await IndexKeyColumnsAsync(index));
        }

        // The stricter pages, newest first, exactly the runs past the threshold (not at it); the default ones too.
        var span = runs.Select(r => r.SpanId).ToArray();
        Assert.Equal([span[2], span[0]], await WarnedAsync(RunWarnings.LowConfidence, new ThresholdSet { MinRunConfidence = 0.2 }));
        Assert.Equal([span[2], span[1], span[0]], await WarnedAsync(RunWarnings.LowConfidence, new ThresholdSet { MinRunConfidence = 0.35 }));
        Assert.Equal([span[5], span[2], span[1], span[0]], await WarnedAsync(RunWarnings.LowConfidence));
        Assert.Equal([span[5], span[4], span[3]], await WarnedAsync(RunWarnings.HighTokenUsage, new ThresholdSet { MaxTokensPerInvocation = 10000 }));
        Assert.Equal([span[4]], await WarnedAsync(RunWarnings.HighTokenUsage, new ThresholdSet { MaxTokensPerInvocation = 12000 }));
        Assert.Equal([span[5], span[4], span[3], span[2]], await WarnedAsync(RunWarnings.HighTokenUsage));
        Assert.Empty(await WarnedAsync(RunWarnings.HighTokenUsage, new ThresholdSet { MaxTokensPerInvocation = 10_000_000 }));

        // The writer keeps the recreated indexes: a run stored after the migration joins the stricter pages.
        var late = Run(8, 0.1, 15000);
        await Store.WriteAsync(TestRecords.Batch(late), CancellationToken.None);
        Assert.Equal([late.SpanId, span[2], span[0]], await WarnedAsync(RunWarnings.LowConfidence, new ThresholdSet { MinRunConfidence = 0.2 }));
        Assert.Equal([late.SpanId, span[5], span[4], span[3]], await WarnedAsync(RunWarnings.HighTokenUsage, new ThresholdSet { MaxTokensPerInvocation = 10000 }));
    }
}
