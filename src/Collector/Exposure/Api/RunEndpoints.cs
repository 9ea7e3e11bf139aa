using System.Globalization;
using System.Text;
using Microsoft.Extensions.Primitives;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Runs;
using PerfOtel.Collector.Records;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Exposure.Api;

/// <summary>
/// Investigating runs: <c>GET /api/v1/invocations</c> (list and filter), <c>/api/v1/invocations/{traceId}/{spanId}</c>
/// (one run), <c>/api/v1/invocations/compare?a=&amp;b=</c> and <c>/api/v1/jobs/{jobId}</c>. Every route acts for the
/// tenant <see cref="RequestTenant"/> decides; another tenant's run is not found (404), never forbidden.
/// </summary>
public static class RunEndpoints
{
    public const string ListRoute = "/api/v1/invocations";
    public const string RunRoute = "/api/v1/invocations/{traceId}/{spanId}";
    public const string CompareRoute = "/api/v1/invocations/compare";
    public const string JobRoute = "/api/v1/jobs/{jobId}";

    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    /// <summary>Invocations a job read returns at most.</summary>
    public const int MaxJobInvocations = 10_000;

    private const int MaxText = 256;

    private static readonly QueryParameter[] ListQuery =
    [
        new("traceId", "Only the runs of this trace (32 hex digits)."),
        new("agent", "Agent name (gen_ai.agent.name)."),
        new("outcome", "success, failure or partial."),
        new("taskType", "Task type (perfotel.task.type)."),
        new("jobId", "Job id (perfotel.job.id)."),
        new("model", "Request or response model of any of the run's own provider calls."),
        new("errorType", "The invocation's own error.type."),
        new("since", "Runs starting at or after this RFC 3339 time.", Format: "date-time"),
        new("until", "Runs starting before this RFC 3339 time.", Format: "date-time"),
        new("minDurationSeconds", "Runs lasting at least this many seconds.", "number"),
        new("minCostUsd", "Runs whose rolled-up cost is at least this many US dollars.", "number"),
        new("warning", "Runs with this warning: " + string.Join(", ", RunWarnings.All) + "."),
        new("limit", $"Runs per page, 1 to {MaxLimit} (default {DefaultLimit}).", "integer"),
        new("cursor", "nextCursor of the previous page, unchanged."),
    ];

    public static IEndpointRouteBuilder MapPerfOtelRunsApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet(ListRoute, ListAsync).Describe<InvocationListResponse>(
            "The tenant's runs, newest first, filtered, in pages joined by an opaque cursor.", ListQuery);
        endpoints.MapGet(CompareRoute, CompareAsync).Describe<InvocationComparisonResponse>(
            "Two runs side by side: steps aligned by operation and name, and the differences.",
            [new("a", "First run, as <traceId>/<spanId>."), new("b", "Second run, as <traceId>/<spanId>.")],
            StatusCodes.Status404NotFound);
        endpoints.MapGet(RunRoute, RunAsync).Describe<InvocationResponse>(
            "One run: its steps, counts, time shares, error classes, warnings, evaluations and feedback.", [],
            StatusCodes.Status404NotFound);
        endpoints.MapGet(JobRoute, JobAsync).Describe<JobSummary>(
            "Every run of a job (perfotel.job.id), its agents, outcome and totals.", [], StatusCodes.Status404NotFound);
        return endpoints;
    }

    private static async Task<IResult> ListAsync(HttpRequest request, IExecutionStore store, RollingWindows windows,
        CancellationToken cancellationToken)
    {
        var tenant = RequestTenant.Resolve(request.HttpContext);
        var errors = new List<ApiError>();
        var search = new RunSearch
        {
            Tenant = tenant,
            TraceId = Text(request, "traceId", errors)?.ToLowerInvariant(),
            AgentName = Text(request, "agent", errors),
            Outcome = Text(request, "outcome", errors),
            TaskType = Text(request, "taskType", errors),
            JobId = Text(request, "jobId", errors),
            Model = Text(request, "model", errors),
            ErrorType = Text(request, "errorType", errors),
            Since = Time(request, "since", errors),
            Until = Time(request, "until", errors),
            MinDurationSeconds = NonNegative(request, "minDurationSeconds", errors),
            MinCostUsd = NonNegative(request, "minCostUsd", errors),
            After = Cursor(request, errors),
            Limit = DefaultLimit,
        };
        if (search.TraceId is { } trace && !IsHex(trace, 32))
        {
            errors.Add(new ApiError($"traceId must be 32 hex digits, was '{Shorten(trace)}'.", "traceId"));
        }
        if (search.Outcome is { } outcome && outcome is not (Outcomes.Success or Outcomes.Failure or Outcomes.Partial))
        {
            errors.Add(new ApiError($"outcome must be success, failure or partial, was '{outcome}'.", "outcome"));
        }
        var warning = Text(request, "warning", errors);
        if (warning is not null && !RunWarnings.All.Contains(warning))
        {
            errors.Add(new ApiError($"warning must be one of {string.Join(", ", RunWarnings.All)}, was '{warning}'.", "warning"));
        }
        var limit = DefaultLimit;
        if (Single(request, "limit", errors) is { } limitText
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            errors.Add(new ApiError($"limit must be a whole number from 1 to {MaxLimit}, was '{limitText}'.", "limit"));
        }
        if (search.Since is { } since && search.Until is { } until && until <= since)
        {
            errors.Add(new ApiError("until must be later than since.", "until"));
        }
        if (errors.Count > 0)
        {
            return Results.BadRequest(errors[0]);
        }

        return Results.Ok(await PageAsync(store, windows, search, warning, limit, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// One page of <c>GET /api/v1/invocations</c> for a validated search (its <c>After</c> is the cursor), shared with
    /// the pages.
    /// </summary>
    internal static async Task<InvocationListResponse> PageAsync(IExecutionStore store, RollingWindows windows, RunSearch search,
        string? warning, int limit, CancellationToken cancellationToken)
    {
        var tenant = search.Tenant;
        var lookup = new RunLookup(windows, tenant);
        var filter = warning is null ? null : RunWarnings.StoreFilter(warning, lookup.Thresholds,
            search.AgentName is { } agent ? [new(agent, lookup.P95(agent))] : lookup.AgentP95s());
        var page = await RunPages.ReadAsync(Store(store), search with { Limit = limit, Warning = filter }, lookup.Summarize,
            cancellationToken).ConfigureAwait(false);
        return new InvocationListResponse(tenant, page.Runs, page.Next is null ? null : Encode(page.Next));
    }

    private static async Task<IResult> RunAsync(string traceId, string spanId, HttpRequest request, IExecutionStore store,
        RollingWindows windows, CancellationToken cancellationToken)
    {
        if (IdError(traceId, spanId) is { } error)
        {
            return Results.BadRequest(new ApiError(error, error.StartsWith("traceId", StringComparison.Ordinal) ? "traceId" : "spanId"));
        }
        var tenant = RequestTenant.Resolve(request.HttpContext);
        var detail = await InspectAsync(store, windows, tenant, traceId.ToLowerInvariant(), spanId.ToLowerInvariant(),
            cancellationToken).ConfigureAwait(false);
        return detail is null ? NotFound(tenant, traceId, spanId) : Results.Ok(new InvocationResponse(tenant, detail));
    }

    private static async Task<IResult> CompareAsync(HttpRequest request, IExecutionStore store, RollingWindows windows,
        CancellationToken cancellationToken)
    {
        var errors = new List<ApiError>();
        var a = Single(request, "a", errors);
        var b = Single(request, "b", errors);
        if (errors.Count == 0 && (a is null || b is null))
        {
            errors.Add(new ApiError("a and b are both required, each as <traceId>/<spanId>.", a is null ? "a" : "b"));
        }
        if (errors.Count > 0)
        {
            return Results.BadRequest(errors[0]);
        }
        var tenant = RequestTenant.Resolve(request.HttpContext);
        var runs = new RunDetail[2];
        foreach (var (index, name, value) in new[] { (0, "a", a!), (1, "b", b!) })
        {
            var parts = value.Split('/');
            if (parts.Length != 2 || IdError(parts[0], parts[1]) is not null)
            {
                return Results.BadRequest(new ApiError($"{name} must be <traceId>/<spanId> (32 and 16 hex digits), was '{value}'.", name));
            }
            var detail = await InspectAsync(store, windows, tenant, parts[0].ToLowerInvariant(), parts[1].ToLowerInvariant(),
                cancellationToken).ConfigureAwait(false);
            if (detail is null)
            {
                return NotFound(tenant, parts[0], parts[1]);
            }
            runs[index] = detail;
        }
        return Results.Ok(new InvocationComparisonResponse(tenant, RunComparison.Compare(runs[0], runs[1])));
    }

    private static async Task<IResult> JobAsync(string jobId, HttpRequest request, IExecutionStore store,
        RollingWindows windows, CancellationToken cancellationToken)
    {
        if (jobId.Length > MaxText)
        {
            return Results.BadRequest(new ApiError($"jobId must be at most {MaxText} characters.", "jobId"));
        }
        var tenant = RequestTenant.Resolve(request.HttpContext);
        var rows = await Store(store).SearchRunsAsync(new RunSearch { Tenant = tenant, JobId = jobId, Limit = MaxJobInvocations + 1 },
            cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0)
        {
            return Results.NotFound(new ApiError($"No job '{jobId}' in tenant '{tenant}'."));
        }
        var lookup = new RunLookup(windows, tenant);
        var truncated = rows.Count > MaxJobInvocations;
        var kept = truncated ? rows.Take(MaxJobInvocations).ToList() : rows;
        return Results.Ok(JobSummarizer.Summarize(tenant, jobId, kept, lookup.Summarize, truncated));
    }

    /// <summary>One run of the tenant, as <c>GET /api/v1/invocations/{traceId}/{spanId}</c> shows it; null when not found.</summary>
    internal static async Task<RunDetail?> InspectAsync(IExecutionStore store, RollingWindows windows, string tenant,
        string traceId, string spanId, CancellationToken cancellationToken)
    {
        var trace = await Store(store).ReadTraceAsync(tenant, traceId, cancellationToken).ConfigureAwait(false);
        var agent = trace.Invocations.FirstOrDefault(i => i.Invocation.SpanId == spanId)?.Invocation.AgentName;
        if (agent is null)
        {
            return null;
        }
        var lookup = new RunLookup(windows, tenant);
        return RunInspector.Inspect(trace, spanId, lookup.Thresholds, lookup.P95(agent));
    }

    private static IRunStore Store(IExecutionStore store) =>
        store as IRunStore ?? throw new InvalidOperationException(
            $"The configured store ({store.GetType().Name}) cannot read runs back.");

    /// <summary>The thresholds of one tenant and its agents' p95 (over the longest window), looked up once per request.</summary>
    private sealed class RunLookup(RollingWindows windows, string tenant)
    {
        private readonly Dictionary<string, double?> p95 = new(StringComparer.Ordinal);
        private readonly int longest = windows.Windows.Select((w, i) => (w, i)).MaxBy(p => p.w.Duration).i;

        public Derived.Thresholds.ThresholdSet Thresholds { get; } = windows.ThresholdsFor(tenant);

        public double? P95(string agent)
        {
            if (!p95.TryGetValue(agent, out var value))
            {
                value = windows.Find(tenant, agent) is { } found ? windows.Report(found, longest).LatencyP95Seconds : null;
                p95[agent] = value;
            }
            return value;
        }

        /// <summary>The p95 of every agent of the tenant the windows know (the others are never slow).</summary>
        public IEnumerable<KeyValuePair<string, double?>> AgentP95s() =>
            windows.Agents(tenant).Select(a => new KeyValuePair<string, double?>(a.Agent, P95(a.Agent)));

        public RunSummary Summarize(RunRow row) =>
            RunWarnings.Summarize(row.Stored, row.Calls, Thresholds, P95(row.Stored.Invocation.AgentName));
    }

    private static string? Single(HttpRequest request, string name, List<ApiError> errors)
    {
        if (!request.Query.TryGetValue(name, out StringValues values))
        {
            return null;
        }
        if (values.Count != 1)
        {
            errors.Add(new ApiError($"{name} may be given once, was given {values.Count} times.", name));
            return null;
        }
        return values[0];
    }

    private static string? Text(HttpRequest request, string name, List<ApiError> errors)
    {
        var value = Single(request, name, errors);
        if (value is { Length: 0 or > MaxText })
        {
            errors.Add(new ApiError($"{name} must be 1 to {MaxText} characters when given.", name));
            return null;
        }
        return value;
    }

    private static DateTimeOffset? Time(HttpRequest request, string name, List<ApiError> errors)
    {
        var value = Single(request, name, errors);
        if (value is null)
        {
            return null;
        }
        if (!ExportEndpoint.TryParseRfc3339(value, out var time))
        {
            errors.Add(new ApiError($"{name} must be an RFC 3339 timestamp such as 2026-01-31T09:00:00Z, was '{value}'.", name));
            return null;
        }
        return time;
    }

    private static double? NonNegative(HttpRequest request, string name, List<ApiError> errors)
    {
        var value = Single(request, name, errors);
        if (value is null)
        {
            return null;
        }
        if (!double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)
            || !double.IsFinite(number))
        {
            errors.Add(new ApiError($"{name} must be a number of 0 or more such as 1.5, was '{value}'.", name));
            return null;
        }
        return number;
    }

    private static RunCursor? Cursor(HttpRequest request, List<ApiError> errors)
    {
        var value = Single(request, "cursor", errors);
        if (value is null)
        {
            return null;
        }
        if (Decode(value) is { } cursor)
        {
            return cursor;
        }
        errors.Add(new ApiError("cursor is not one this API returned: pass nextCursor from the previous page unchanged.", "cursor"));
        return null;
    }

    // Opaque to clients: base64url of "v1|<start time in microseconds since the epoch>|<span id>|<trace id>".
    internal static string Encode(RunCursor cursor)
    {
        var micros = (cursor.StartTime.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;
        var text = string.Create(CultureInfo.InvariantCulture, $"v1|{micros}|{cursor.SpanId}|{cursor.TraceId}");
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    internal static RunCursor? Decode(string value)
    {
        if (value.Length > 200)
        {
            return null;
        }
        var base64 = value.Replace('-', '+').Replace('_', '/');
        base64 += new string('=', (4 - base64.Length % 4) % 4);
        var bytes = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, bytes, out var length))
        {
            return null;
        }
        var parts = Encoding.UTF8.GetString(bytes, 0, length).Split('|');
        if (parts is not ["v1", var microsText, var span, var trace]
            || !long.TryParse(microsText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var micros)
            || IdError(trace, span) is not null
            || micros < (DateTimeOffset.MinValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond
            || micros > (DateTimeOffset.MaxValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond)
        {
            return null;
        }
        return new RunCursor(new DateTimeOffset(DateTimeOffset.UnixEpoch.UtcTicks + micros * TimeSpan.TicksPerMicrosecond,
            TimeSpan.Zero), span, trace);
    }

    private static string? IdError(string traceId, string spanId)
    {
        if (!IsHex(traceId, 32))
        {
            return $"traceId must be 32 hex digits, was '{Shorten(traceId)}'.";
        }
        return IsHex(spanId, 16) ? null : $"spanId must be 16 hex digits, was '{Shorten(spanId)}'.";
    }

    private static bool IsHex(string text, int length) => text.Length == length && text.All(char.IsAsciiHexDigit);

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "...";

    private static IResult NotFound(string tenant, string traceId, string spanId) =>
        Results.NotFound(new ApiError($"No invocation {traceId}/{spanId} in tenant '{tenant}'."));

}

/// <summary><c>GET /api/v1/invocations</c>: a page of runs, newest first; <c>nextCursor</c> is null on the last page.</summary>
public sealed record InvocationListResponse(string Tenant, IReadOnlyList<RunSummary> Invocations, string? NextCursor);

/// <summary><c>GET /api/v1/invocations/{traceId}/{spanId}</c>.</summary>
public sealed record InvocationResponse(string Tenant, RunDetail Invocation);

/// <summary><c>GET /api/v1/invocations/compare</c>.</summary>
public sealed record InvocationComparisonResponse(string Tenant, RunComparisonResult Comparison);
