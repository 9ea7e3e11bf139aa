using PerfOtel.Collector.Derived;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Collector.Derived.Runs;
using PerfOtel.Collector.Records;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// The run routes (<c>/api/v1/invocations</c>, <c>/api/v1/jobs</c>) on each store, against one hand-built job whose
/// steps, totals, error classes and warnings are worked out in the comments.
/// </summary>
public abstract partial class ExecutionStoreContract
{
    [Fact]
    public async Task RunList_IsNewestFirst_PagesWithACursor_AndFilters()
    {
        await using var host = CreateHost();
        var job = await RunJob.WriteAsync(host);
        using var client = host.CreateClient();

        // U (t0+30 s), S (t0+20 s), N (t0+7 s), R (t0); acme's run is another tenant's.
        Assert.Equal([job.U, job.S, job.N, job.R], await SpansAsync(client, ""));
        var first = await GetJsonAsync(client, "/api/v1/invocations?limit=2");
        Assert.Equal([job.U, job.S], Spans(first));
        var cursor = first.GetProperty("nextCursor").GetString()!;
        var second = await GetJsonAsync(client, "/api/v1/invocations?limit=2&cursor=" + Uri.EscapeDataString(cursor));
        Assert.Equal([job.N, job.R], Spans(second));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);

        Assert.Equal([job.S, job.R], await SpansAsync(client, "agent=planner"));
        Assert.Equal([job.U, job.R], await SpansAsync(client, "outcome=failure"));
        Assert.Equal([job.S], await SpansAsync(client, "model=gpt-4o-mini"));
        Assert.Equal([job.U], await SpansAsync(client, "errorType=ValidationError"));
        Assert.Equal([job.U], await SpansAsync(client, "taskType=coding"));
        Assert.Equal([job.R], await SpansAsync(client, "minDurationSeconds=5"));
        // Costs: R 0.03 (its two calls), N 0.005, S unknown (unpriced), U unknown (no calls, no cost on its span).
        Assert.Equal([job.R], await SpansAsync(client, "minCostUsd=0.02"));
        Assert.Equal([job.S], await SpansAsync(client, "warning=fallback_used"));
        Assert.Equal([job.R], await SpansAsync(client, "warning=low_confidence"));
        Assert.Equal([job.U, job.S, job.N, job.R], await SpansAsync(client, "jobId=job-7"));
        Assert.Equal([job.S, job.N], await SpansAsync(client, "since=" + Uri.EscapeDataString(
            RunJob.T0.AddSeconds(5).ToString("O")) + "&until=" + Uri.EscapeDataString(RunJob.T0.AddSeconds(25).ToString("O"))));
        Assert.Equal([job.Acme], await SpansAsync(client, "tenant=acme"));
        Assert.Equal([job.U, job.S, job.N, job.R], await SpansAsync(client, "traceId=" + job.Trace.ToUpperInvariant()));
        Assert.Empty(await SpansAsync(client, "traceId=" + job.AcmeTrace));

        // A page of a warning holds its one match and no cursor: the store filters, nothing is left to scan
        // (paging through several matches: RunList_WarningFilter_SelectsExactlyTheRunsTheRulesWarnAbout).
        var warned = await GetJsonAsync(client, "/api/v1/invocations?warning=low_confidence&limit=1");
        Assert.Equal([job.R], Spans(warned));
        Assert.Equal(JsonValueKind.Null, warned.GetProperty("nextCursor").ValueKind);
        var tokens = await GetJsonAsync(client, "/api/v1/invocations?warning=high_token_usage&limit=1");
        Assert.Equal([job.S], Spans(tokens));
        Assert.Equal(JsonValueKind.Null, tokens.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task RunList_WithAWarningFilter_FindsTheOnlyMatchBehindThousandsOfRuns_OnTheFirstPage()
    {
        await using var host = CreateHost();
        var store = host.Services.GetRequiredService<IExecutionStore>();
        // The oldest run is the only one with low confidence, behind 5 000 newer runs without it (the old post-scan
        // filter examined at most 5 000 runs a page and answered an empty page with a cursor).
        var trace = TestRecords.TraceId();
        var start = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var runs = Enumerable.Range(0, 5_001)
            .Select(i => (object)(TestRecords.Invocation(trace, start: start.AddSeconds(i)) with
            {
                Confidence = i == 0 ? 0.1 : 0.9, Quality = null, Tokens = default, CostUsd = null, ErrorType = null,
            }))
            .ToArray();
        var lowConfidence = ((AgentInvocation)runs[0]).SpanId;
        await store.WriteAsync(TestRecords.Batch(runs), CancellationToken.None);
        using var client = host.CreateClient();

        var first = await GetJsonAsync(client, "/api/v1/invocations?warning=low_confidence&limit=5");
        Assert.Equal([lowConfidence], Spans(first));
        Assert.Equal(JsonValueKind.Null, first.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task RunList_WarningFilter_UsesEachTenantsOwnThreshold_StricterOrLooserThanTheDefault()
    {
        // Minimum confidence: default 0.5; acme looser (0.95: above the partial index's bound, the time walk answers);
        // globex stricter (0.2: the index answers, filtered exactly).
        await using var host = CreateHost(new("Thresholds:Tenants:acme:MinRunConfidence", "0.95"),
            new("Thresholds:Tenants:globex:MinRunConfidence", "0.2"));
        var store = host.Services.GetRequiredService<IExecutionStore>();
        var trace = TestRecords.TraceId();
        var spans = new Dictionary<(string Tenant, double Confidence), string>();
        var runs = new List<object>();
        var i = 0;
        foreach (var tenant in new[] { "default", "acme", "globex" })
        {
            foreach (var confidence in new[] { 0.9, 0.3, 0.1 })
            {
                var run = TestRecords.Invocation(trace, tenant: tenant, start: TestRecords.Start.AddSeconds(i++)) with
                {
                    Confidence = confidence, Quality = null, Tokens = default, CostUsd = null, ErrorType = null,
                };
                spans[(tenant, confidence)] = run.SpanId;
                runs.Add(run);
            }
        }
        await store.WriteAsync(TestRecords.Batch([.. runs]), CancellationToken.None);
        using var client = host.CreateClient();

        Assert.Equal([spans[("default", 0.1)], spans[("default", 0.3)]],
            await SpansAsync(client, "warning=low_confidence"));
        Assert.Equal([spans[("acme", 0.1)], spans[("acme", 0.3)], spans[("acme", 0.9)]],
            await SpansAsync(client, "warning=low_confidence&tenant=acme"));
        Assert.Equal([spans[("globex", 0.1)]], await SpansAsync(client, "warning=low_confidence&tenant=globex"));
        // The run page agrees with the list, threshold included.
        var page = (await GetJsonAsync(client, $"/api/v1/invocations/{trace}/{spans[("acme", 0.9)]}?tenant=acme"))
            .GetProperty("invocation").GetProperty("run");
        var warning = Assert.Single(page.GetProperty("warnings").EnumerateArray());
        Assert.Equal(RunWarnings.LowConfidence, warning.GetProperty("name").GetString());
        Assert.Equal(0.95, warning.GetProperty("threshold").GetDouble(), 9);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("outcome=ok", "outcome")]
    [InlineData("warning=slow", "warning")]
    [InlineData("since=yesterday", "since")]
    [InlineData("minCostUsd=-1", "minCostUsd")]
    [InlineData("minDurationSeconds=NaN", "minDurationSeconds")]
    [InlineData("cursor=bm90LWEtY3Vyc29y", "cursor")]
    [InlineData("agent=a&agent=b", "agent")]
    [InlineData("agnet=planner", "agnet")]
    [InlineData("traceId=abc", "traceId")]
    [InlineData("since=2026-03-14T10:00:00Z&until=2026-03-14T09:00:00Z", "until")]
    public async Task RunList_BadParameters_Are400WithAMessageNamingThem(string query, string named)
    {
        await using var host = CreateHost();
        using var client = host.CreateClient();

        using var response = await client.GetAsync("/api/v1/invocations?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(named, json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneRun_HasItsStepsCountsSharesErrorClassesAndWarnings()
    {
        await using var host = CreateHost();
        var job = await RunJob.WriteAsync(host);
        using var client = host.CreateClient();

        var run = (await GetJsonAsync(client, $"/api/v1/invocations/{job.Trace}/{job.R}")).GetProperty("invocation");

        // Steps in time order: P1 (429, attempt 1), P2 (retry), T1 (tool error), N (nested critic). P3 belongs to N.
        var steps = run.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal([job.P1, job.P2, job.T1, job.N], steps.Select(s => s.GetProperty("spanId").GetString()));
        Assert.Equal(["provider_call", "provider_call", "tool_call", "agent_invocation"], steps.Select(s => s.GetProperty("kind").GetString()));
        Assert.Equal("provider_throttled", steps[0].GetProperty("errorClass").GetString());
        Assert.Equal(2, steps[1].GetProperty("attempt").GetInt32());
        Assert.Equal(1300, steps[1].GetProperty("tokens").GetProperty("total").GetInt64());
        Assert.Equal("search", steps[2].GetProperty("name").GetString());
        Assert.Equal("tool_error", steps[2].GetProperty("errorClass").GetString());
        Assert.Equal("critic", steps[3].GetProperty("name").GetString());
        Assert.Equal(7.0, steps[3].GetProperty("offsetSeconds").GetDouble(), 9);
        Assert.Equal(4, run.GetProperty("stepCount").GetInt32());
        Assert.Equal(2, run.GetProperty("errorCount").GetInt32());
        Assert.Equal(1.0, run.GetProperty("timeToFirstStepSeconds").GetDouble(), 9);
        // Over R's 10 s: provider calls [1,3] [3.5,5] and N's [7.5,8.5] = 4.5 s; the tool [5.5,6.5] = 1 s; 4.5 s elsewhere.
        var shares = run.GetProperty("timeShares");
        Assert.Equal(0.45, shares.GetProperty("providerShare").GetDouble(), 9);
        Assert.Equal(0.10, shares.GetProperty("toolShare").GetDouble(), 9);
        Assert.Equal(0.45, shares.GetProperty("elsewhereShare").GetDouble(), 9);
        Assert.Equal(["provider_throttled", "tool_error"], run.GetProperty("errorClasses").EnumerateArray().Select(e => e.GetString()));
        var summary = run.GetProperty("run");
        Assert.Equal(2500, summary.GetProperty("totalTokens").GetInt64());
        Assert.Equal(0.03, summary.GetProperty("costUsd").GetDouble(), 9);
        Assert.Equal(1, summary.GetProperty("retries").GetInt64());
        Assert.Equal(["low_confidence"], summary.GetProperty("warnings").EnumerateArray().Select(w => w.GetProperty("name").GetString()));
        Assert.Equal("relevance", Assert.Single(run.GetProperty("evaluations").EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal(0.875, summary.GetProperty("accuracy").GetDouble(), 9);
        Assert.Equal(0.875, run.GetProperty("feedback").GetProperty("accuracy").GetDouble(), 9);

        // S: 5500 tokens, its call a fallback at attempt 3 to an unpriced model.
        var s = (await GetJsonAsync(client, $"/api/v1/invocations/{job.Trace}/{job.S}")).GetProperty("invocation");
        Assert.Equal(["high_token_usage", "fallback_used", "unpriced_model"],
            s.GetProperty("run").GetProperty("warnings").EnumerateArray().Select(w => w.GetProperty("name").GetString()));
        // U failed on its own with a validation error and has no steps.
        var u = (await GetJsonAsync(client, $"/api/v1/invocations/{job.Trace}/{job.U}")).GetProperty("invocation");
        Assert.Equal(["validation_error"], u.GetProperty("errorClasses").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(JsonValueKind.Null, u.GetProperty("timeToFirstStepSeconds").ValueKind);
        // N knows it is nested in R.
        var n = (await GetJsonAsync(client, $"/api/v1/invocations/{job.Trace}/{job.N}")).GetProperty("invocation");
        Assert.Equal(job.R, n.GetProperty("parentInvocationSpanId").GetString());
        Assert.Equal(job.P3, Assert.Single(n.GetProperty("steps").EnumerateArray()).GetProperty("spanId").GetString());
    }

    [Fact]
    public async Task OneRun_UnknownIdsAre404_AnotherTenantsRunIs404_BadIdsAre400()
    {
        await using var host = CreateHost();
        var job = await RunJob.WriteAsync(host);
        using var client = host.CreateClient();

        foreach (var path in new[]
                 {
                     $"/api/v1/invocations/{job.Trace}/{TestRecords.SpanId()}",
                     $"/api/v1/invocations/{TestRecords.TraceId()}/{job.R}",
                     $"/api/v1/invocations/{job.Trace}/{job.R}?tenant=acme",
                     $"/api/v1/invocations/{job.AcmeTrace}/{job.Acme}",
                     $"/api/v1/invocations/compare?a={job.Trace}/{job.R}&b={job.AcmeTrace}/{job.Acme}",
                     "/api/v1/jobs/job-unknown",
                     "/api/v1/jobs/job-7?tenant=acme",
                 })
        {
            using var response = await client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("error").GetString()));
        }

        foreach (var path in new[]
                 {
                     $"/api/v1/invocations/{job.Trace}/xyz",
                     $"/api/v1/invocations/not-a-trace/{job.R}",
                     $"/api/v1/invocations/compare?a={job.Trace}/{job.R}",
                     $"/api/v1/invocations/compare?a={job.Trace}&b={job.Trace}/{job.S}",
                     $"/api/v1/invocations/{job.Trace}/{job.R}?window=1h",
                     $"/api/v1/invocations/compare?a={job.Trace}/{job.R}&b={job.Trace}/{job.S}&c={job.Trace}/{job.U}",
                     "/api/v1/jobs/job-7?agent=planner",
                     "/api/v1/jobs/" + new string('j', 1_000),
                 })
        {
            using var response = await client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode}");
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("error").GetString()));
        }
    }

    [Fact]
    public async Task TracePage_ListsTheTracesRuns_RedirectsALoneRun_AndIsTenantScoped()
    {
        await using var host = CreateHost();
        var job = await RunJob.WriteAsync(host);
        using var client = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        // Four runs in the job's trace: a list linking each run's page, newest first, in any case of the id.
        using var list = await client.GetAsync($"/ui/runs/{job.Trace.ToUpperInvariant()}");
        var html = await list.Content.ReadAsStringAsync();
        Assert.True(list.StatusCode == HttpStatusCode.OK, html);
        var links = RunLink().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal([job.U, job.S, job.N, job.R], links);
        Assert.Contains($"/api/v1/invocations?traceId={job.Trace}", html, StringComparison.Ordinal);

        // Acme's trace has one run: the exemplar link goes straight to its page, keeping the tenant.
        using var lone = await client.GetAsync($"/ui/runs/{job.AcmeTrace}?tenant=acme");
        Assert.Equal(HttpStatusCode.Redirect, lone.StatusCode);
        Assert.Equal($"/ui/runs/{job.AcmeTrace}/{job.Acme}?tenant=acme", lone.Headers.Location?.OriginalString);

        // Another tenant's trace, or one nobody has, is not found; a malformed id is a bad request.
        foreach (var path in new[] { $"/ui/runs/{job.AcmeTrace}", $"/ui/runs/{job.Trace}?tenant=acme", $"/ui/runs/{TestRecords.TraceId()}" })
        {
            using var response = await client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
        }
        using var bad = await client.GetAsync("/ui/runs/not-a-trace");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [System.Text.RegularExpressions.GeneratedRegex("href=\"/ui/runs/[0-9a-f]{32}/([0-9a-f]{16})\"")]
    private static partial System.Text.RegularExpressions.Regex RunLink();

    [Fact]
    public async Task Compare_AlignsStepsByOperationAndName_AndGivesTheDifferences()
    {
        await using var host = CreateHost();
        var job = await RunJob.WriteAsync(host);
        using var client = host.CreateClient();

        var comparison = (await GetJsonAsync(client, $"/api/v1/invocations/compare?a={job.Trace}/{job.R}&b={job.Trace}/{job.S}"))
            .GetProperty("comparison");

        // R: chat, chat, execute_tool search, invoke_agent critic. S: chat. The one common step pairs R's first chat.
        var steps = comparison.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(["chat", "chat", "execute_tool search", "invoke_agent critic"], steps.Select(s => s.GetProperty("key").GetString()));
        Assert.Equal(job.P1, steps[0].GetProperty("a").GetProperty("spanId").GetString());
        Assert.Equal(job.P4, steps[0].GetProperty("b").GetProperty("spanId").GetString());
        Assert.True(steps[0].GetProperty("modelChanged").GetBoolean());
        Assert.True(steps[0].GetProperty("errorChanged").GetBoolean());
        // P1 1200 tokens, P4 5500.
        Assert.Equal(4300, steps[0].GetProperty("tokens").GetProperty("delta").GetDouble());
        Assert.All(steps.Skip(1), s => Assert.Equal(JsonValueKind.Null, s.GetProperty("b").ValueKind));
        Assert.Equal(-7.0, comparison.GetProperty("duration").GetProperty("delta").GetDouble(), 9);
        Assert.Equal(3000, comparison.GetProperty("tokens").GetProperty("delta").GetDouble());
        Assert.Equal(JsonValueKind.Null, comparison.GetProperty("costUsd").GetProperty("delta").ValueKind);
        Assert.True(comparison.GetProperty("outcomeChanged").GetBoolean());
        Assert.Equal(["gpt-4o"], comparison.GetProperty("modelsOnlyInA").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["gpt-4o-mini"], comparison.GetProperty("modelsOnlyInB").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["provider_throttled", "tool_error"],
            comparison.GetProperty("errorClassesOnlyInA").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Job_HasItsInvocationsAgentsOutcomeAndTotals()
    {
        await using var host = CreateHost();
        var job = await RunJob.WriteAsync(host);
        using var client = host.CreateClient();

        var summary = await GetJsonAsync(client, "/api/v1/jobs/job-7");

        Assert.Equal([job.R, job.N, job.S, job.U],
            summary.GetProperty("invocations").EnumerateArray().Select(i => i.GetProperty("spanId").GetString()));
        // Tasks: t1 (R failed, then S succeeded: judged by S) and t2 (U failed); N is nested in R, not a task.
        Assert.Equal("partial", summary.GetProperty("outcome").GetString());
        Assert.Equal(2, summary.GetProperty("tasks").GetInt32());
        Assert.Equal(1, summary.GetProperty("succeededTasks").GetInt32());
        Assert.Equal(1, summary.GetProperty("failedTasks").GetInt32());
        // R 2000+500, N 100+50, S 4000+1500, U none.
        Assert.Equal(6100, summary.GetProperty("tokens").GetProperty("input").GetInt64());
        Assert.Equal(2050, summary.GetProperty("tokens").GetProperty("output").GetInt64());
        Assert.Equal(0.035, summary.GetProperty("costUsd").GetDouble(), 9);
        Assert.Equal(5500, summary.GetProperty("unpricedTokens").GetInt64());
        // From R's start (t0) to U's end (t0+31 s).
        Assert.Equal(31.0, summary.GetProperty("durationSeconds").GetDouble(), 9);
        Assert.Equal(["coder", "critic", "planner"],
            summary.GetProperty("agents").EnumerateArray().Select(a => a.GetProperty("agent").GetString()));
        Assert.Equal(2, summary.GetProperty("agents")[2].GetProperty("invocations").GetInt32());
        Assert.False(summary.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public async Task Report_ListsTheWorstRunsOfEachBreachingAgentWithTheirIds()
    {
        await using var host = CreateHost();
        var store = host.Services.GetRequiredService<IExecutionStore>();
        // flaky: 5 runs in the last hour, 3 failed (success rate 0.4: critical; error rate 0.6: warning). steady: 2 successes.
        var now = DateTimeOffset.UtcNow;
        var runs = Enumerable.Range(0, 5).Select(i => TestRecords.Invocation(start: now.AddMinutes(-20 + i), agent: "flaky") with
        {
            Outcome = i is 0 or 2 or 3 ? Outcomes.Failure : Outcomes.Success, ErrorType = null, DurationSeconds = 1,
            ParentSpanId = null, Quality = 0.9,
        }).ToList();
        // Good answers (quality 0.9): only the success and error rates of flaky are breached.
        var steady = Enumerable.Range(0, 2).Select(i => TestRecords.Invocation(start: now.AddMinutes(-10 + i), agent: "steady") with
        {
            Outcome = Outcomes.Success, DurationSeconds = 1, ParentSpanId = null, Quality = 0.9,
        });
        var committed = await store.WriteAsync(TestRecords.Batch([.. runs, .. steady]), CancellationToken.None);
        host.Services.GetRequiredService<DerivationPipeline>().Apply(committed);
        using var client = host.CreateClient();

        var report = await GetJsonAsync(client, "/api/v1/report?window=1h");
        var worst = report.GetProperty("worstRuns").EnumerateArray().ToList();
        var failedNewestFirst = new[] { runs[3].SpanId, runs[2].SpanId, runs[0].SpanId };
        Assert.Equal(failedNewestFirst, worst.Where(w => w.GetProperty("metric").GetString() == "success_rate")
            .Select(w => w.GetProperty("run").GetProperty("spanId").GetString()));
        Assert.Equal(failedNewestFirst, worst.Where(w => w.GetProperty("metric").GetString() == "error_rate")
            .Select(w => w.GetProperty("run").GetProperty("spanId").GetString()));
        Assert.All(worst, w => Assert.Equal("flaky", w.GetProperty("agent").GetString()));

        using var markdown = await client.GetAsync("/api/v1/report?window=1h&format=markdown");
        var text = await markdown.Content.ReadAsStringAsync();
        Assert.Contains("## Worst runs", text, StringComparison.Ordinal);
        foreach (var run in runs)
        {
            Assert.Equal(run.Outcome == Outcomes.Failure, text.Contains($"`{run.TraceId}/{run.SpanId}`", StringComparison.Ordinal));
        }
    }

    private static async Task<List<string?>> SpansAsync(HttpClient client, string query) =>
        Spans(await GetJsonAsync(client, "/api/v1/invocations?" + query));

    private static List<string?> Spans(JsonElement page) =>
        page.GetProperty("invocations").EnumerateArray().Select(i => i.GetProperty("spanId").GetString()).ToList();

    private static async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>
    /// Job job-7 in one trace. R (planner, task t1, failed, 10 s, confidence 0.4): P1 chat gpt-4o at +1 s for 2 s,
    /// 1000+200 tokens, $0.01, error 429; P2 its retry (attempt 2) at +3.5 s for 1.5 s, 1000+300, $0.02; T1 tool search
    /// at +5.5 s for 1 s, error not_found; N (critic, nested in R) at +7 s for 2 s with P3 (claude-3, 100+50, $0.005) at
    /// +7.5 s for 1 s. S (planner, task t1 again, success, at +20 s for 3 s, confidence 0.9): P4 chat gpt-4o-mini,
    /// attempt 3, fallback from gpt-4o, 4000+1500 tokens, unpriced. U (coder, task t2, coding, failed with
    /// ValidationError, at +30 s for 1 s). Acme's run is another tenant's, with a tool call in R's trace.
    /// </summary>
    private sealed record RunJob(string Trace, string R, string P1, string P2, string T1, string N, string P3, string S,
        string P4, string U, string AcmeTrace, string Acme)
    {
        public static readonly DateTimeOffset T0 = TestRecords.Start;

        public static async Task<RunJob> WriteAsync(WebApplicationFactory<Program> host)
        {
            var store = host.Services.GetRequiredService<IExecutionStore>();
            var trace = TestRecords.TraceId();
            var job = new RunJob(trace, TestRecords.SpanId(), TestRecords.SpanId(), TestRecords.SpanId(), TestRecords.SpanId(),
                TestRecords.SpanId(), TestRecords.SpanId(), TestRecords.SpanId(), TestRecords.SpanId(), TestRecords.SpanId(),
                TestRecords.TraceId(), TestRecords.SpanId());
            AgentInvocation Invocation(string span, string agent, string? parent, double at, double seconds, string outcome,
                string task) => TestRecords.Invocation(trace, span, task, T0.AddSeconds(at), agent: agent) with
            {
                ParentSpanId = parent, DurationSeconds = seconds, Outcome = outcome, ErrorType = null, JobId = "job-7",
                TaskType = "research", Confidence = null, Quality = null, Tokens = default, CostUsd = null,
            };
            ProviderCall Call(string span, string owner, double at, double seconds, string model, long input, long output,
                double? cost) => TestRecords.ProviderCall(trace, owner, owner, new TokenCounts(input, output, 0, 0, 0), cost,
                start: T0.AddSeconds(at)) with
            {
                SpanId = span, DurationSeconds = seconds, RequestModel = model, ResponseModel = null, Attempt = 1,
                FallbackFrom = null, FallbackReason = null,
            };

            var r = Invocation(job.R, "planner", null, 0, 10, Outcomes.Failure, "t1") with { Confidence = 0.4, Quality = 0.9 };
            var n = Invocation(job.N, "critic", job.R, 7, 2, Outcomes.Success, "t1-critic");
            var s = Invocation(job.S, "planner", null, 20, 3, Outcomes.Success, "t1") with { Confidence = 0.9 };
            var u = Invocation(job.U, "coder", null, 30, 1, Outcomes.Failure, "t2") with
            {
                ErrorType = "ValidationError", TaskType = "coding",
            };
            var acme = TestRecords.Invocation(job.AcmeTrace, job.Acme, tenant: "acme", start: T0.AddSeconds(40));
            await store.WriteAsync(TestRecords.Batch(
                r, n, s, u, acme,
                Call(job.P1, job.R, 1, 2, "gpt-4o", 1000, 200, 0.01) with { ErrorType = "429" },
                Call(job.P2, job.R, 3.5, 1.5, "gpt-4o", 1000, 300, 0.02) with { Attempt = 2 },
                Call(job.P3, job.N, 7.5, 1, "claude-3", 100, 50, 0.005),
                Call(job.P4, job.S, 20.5, 2, "gpt-4o-mini", 4000, 1500, null) with
                {
                    Attempt = 3, FallbackFrom = "gpt-4o", FallbackReason = "rate_limited", UnpricedTokens = 5500,
                },
                TestRecords.ToolCall(trace, T0.AddSeconds(5.5)) with
                {
                    SpanId = job.T1, ParentSpanId = job.R, InvocationSpanId = job.R, ToolName = "search", DurationSeconds = 1,
                    ErrorType = "not_found",
                },
                TestRecords.ToolCall(trace, T0.AddSeconds(2)) with
                {
                    Tenant = "acme", ParentSpanId = job.R, InvocationSpanId = job.R, ToolName = "acme-tool",
                },
                TestRecords.Evaluation(trace, job.R)), CancellationToken.None);
            await store.AddFeedbackAsync(TestRecords.Feedback(traceId: trace, spanId: job.R), CancellationToken.None);
            return job;
        }
    }
}
