using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Analytics.Formulas;
using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Runs;
using System.Globalization;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Exposure.Api;

/// <summary>
/// The analytics REST API under <c>/api/v1</c>. Every endpoint acts for the tenant <see cref="RequestTenant"/> decides
/// (<c>?tenant=</c> where the caller may name one); those over a window take <c>window</c>, one of the configured
/// window names (default: the first configured, <c>1h</c>).
/// </summary>
public static class AnalyticsEndpoints
{
    private const string MarkdownMediaType = "text/markdown";

    /// <summary>Maps the analytics endpoints.</summary>
    public static IEndpointRouteBuilder MapPerfOtelAnalyticsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v1");
        api.MapGet("/health", Health).Describe<HealthResponse>("The tenant's status (critical, degraded, ok, no_data) from its health band and its agents' current breaches; score, band and agents by band.", [Window]);
        api.MapGet("/metrics/system", SystemMetrics).Describe<SystemMetricsResponse>("The tenant-wide report over a window.", [Window]);
        api.MapGet("/metrics/agents", AgentList).Describe<AgentListResponse>("Every agent of the tenant with its headline figures.", [Window]);
        api.MapGet("/metrics/agents/{agent}", AgentMetrics)
            .Describe<AgentMetricsResponse>("One agent's report over every window, or over the window named.", [Window], StatusCodes.Status404NotFound);
        api.MapGet("/alerts", Alerts).Describe<AlertsResponse>(
            "Alerts open now in the window (thresholds the tenant's agents breach, with stable ids and start times) and the alert history resolved since a time.",
            [Window, Level, AgentFilter, MetricFilter, Limit, Since]);
        api.MapGet("/report", Report)
            .Describe<ReportResponse>("The tenant's report: agents, breaches and recommendations, as JSON or Markdown.", [Window, Format])
            .Produces<string>(StatusCodes.Status200OK, MarkdownMediaType);
        api.MapGet("/agents/{agent}/prediction", Prediction)
            .Describe<PredictionResponse>("Predicted success probability of the agent's next invocation, with its interval.",
                [LongestWindow, TaskType], StatusCodes.Status404NotFound);
        return endpoints;
    }

    private static readonly QueryParameter Window = new("window",
        "One of the configured windows (Analytics:Windows, e.g. 1h or 24h); default the first configured.");
    private static readonly QueryParameter LongestWindow = new("window",
        "One of the configured windows (Analytics:Windows); default the longest, which holds the most evidence.");
    private static readonly QueryParameter Format = new("format",
        "json or markdown; without it, Markdown when the Accept header asks for text/markdown, else JSON.");
    private static readonly QueryParameter Level = new("level", "critical or warning: only alerts of that level.");
    private static readonly QueryParameter AgentFilter = new("agent", "Only this agent's alerts (1 to 256 characters).");
    private static readonly QueryParameter MetricFilter = new("metric",
        $"Only alerts on this metric: {string.Join(", ", ThresholdEvaluator.Metrics)}.");
    private static readonly QueryParameter Limit = new("limit", "At most this many resolved alerts, newest first (1 to 1000; default 100).", "integer");
    private static readonly QueryParameter Since = new("since",
        "Resolved alerts resolved at or after this time (ISO 8601, e.g. 2026-11-20T00:00:00Z); default 24 hours ago.", "string", "date-time");
    private static readonly QueryParameter TaskType = new("taskType", "Predict for this task type only (1 to 256 characters).");

    private static IResult Health(HttpRequest request, RollingWindows windows)
    {
        if (!TryScope(request, windows, out var tenant, out var window, out var error))
        {
            return error;
        }
        return Results.Ok(AnalyticsQueries.Health(windows, tenant, window));
    }

    private static IResult SystemMetrics(HttpRequest request, RollingWindows windows)
    {
        if (!TryScope(request, windows, out var tenant, out var window, out var error))
        {
            return error;
        }
        return Results.Ok(new SystemMetricsResponse(tenant, windows.Windows[window].Name,
            windows.Agents(tenant, window).Count, windows.TenantReport(tenant, window)));
    }

    private static IResult AgentList(HttpRequest request, RollingWindows windows)
    {
        if (!TryScope(request, windows, out var tenant, out var window, out var error))
        {
            return error;
        }
        return Results.Ok(AnalyticsQueries.AgentList(windows, tenant, window));
    }

    private static IResult AgentMetrics(string agent, HttpRequest request, RollingWindows windows)
    {
        if (!TryTenant(request, out var tenant, out var error))
        {
            return error;
        }
        int? only = null;
        if (request.Query.ContainsKey("window"))
        {
            if (!TryScope(request, windows, out _, out var chosen, out error))
            {
                return error;
            }
            only = chosen;
        }
        return AnalyticsQueries.AgentMetrics(windows, tenant, agent, only) is { } found
            ? Results.Ok(found)
            : UnknownAgent(tenant, agent);
    }

    private static async Task<IResult> Alerts(HttpRequest request, RollingWindows windows, AlertTracker tracker, CancellationToken cancellationToken)
    {
        if (!TryScope(request, windows, out var tenant, out var window, out var error))
        {
            return error;
        }
        string? level = request.Query["level"];
        if (level is not (null or ThresholdEvaluator.Critical or ThresholdEvaluator.Warning))
        {
            return BadRequest($"level must be critical or warning, was '{level}'.", "level");
        }
        string? agent = request.Query["agent"];
        if (agent is { Length: 0 or > 256 })
        {
            return BadRequest("agent must be 1 to 256 characters when given.", "agent");
        }
        string? metric = request.Query["metric"];
        if (metric is not null && !ThresholdEvaluator.Metrics.Contains(metric, StringComparer.Ordinal))
        {
            return BadRequest($"metric must be one of {string.Join(", ", ThresholdEvaluator.Metrics)}, was '{metric}'.", "metric");
        }
        var limit = 100;
        string? limitText = request.Query["limit"];
        if (limitText is not null && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
        {
            return BadRequest($"limit must be an integer from 1 to 1000, was '{limitText}'.", "limit");
        }
        var since = windows.Now.AddDays(-1);
        string? sinceText = request.Query["since"];
        if (sinceText is not null && !DateTimeOffset.TryParse(sinceText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out since))
        {
            return BadRequest($"since must be an ISO 8601 date and time (e.g. 2026-11-20T00:00:00Z), was '{sinceText}'.", "since");
        }

        var windowName = windows.Windows[window].Name;
        bool Matches(AlertRecord a) => (level is null || a.Level == level) && (agent is null || a.Agent == agent) && (metric is null || a.Metric == metric);
        var open = AnalyticsQueries.OpenAlerts(
            await tracker.EvaluateAsync(tenant, cancellationToken).ConfigureAwait(false), windowName, Matches);
        var resolved = new List<AlertRecord>();
        if (tracker.History is { } history)
        {
            var query = new AlertQuery { Tenant = tenant, ResolvedSince = since, Agent = agent, Metric = metric, Level = level, Limit = limit };
            await foreach (var alert in history.ReadAlertsAsync(query, cancellationToken).ConfigureAwait(false))
            {
                resolved.Add(alert);
            }
        }
        return Results.Ok(new AlertsResponse(tenant, windowName, windows.Now, open, since, resolved, tracker.History is not null));
    }

    private static async Task<IResult> Report(HttpRequest request, RollingWindows windows, IServiceProvider services,
        IExecutionStore store, CancellationToken cancellationToken)
    {
        if (!TryScope(request, windows, out var tenant, out var window, out var error))
        {
            return error;
        }
        string? format = request.Query["format"];
        if (format is not (null or "json" or "markdown"))
        {
            return BadRequest($"format must be json or markdown, was '{format}'.");
        }
        var markdown = format == "markdown" ||
            (format is null && request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(MarkdownMediaType, StringComparison.OrdinalIgnoreCase)));

        var (report, experiments) = await ReportAssembly.BuildAsync(windows, services, store, tenant, window, cancellationToken)
            .ConfigureAwait(false);
        return markdown
            ? Results.Text(MarkdownReport.Render(report, experiments), MarkdownMediaType + "; charset=utf-8")
            : Results.Ok(report);
    }

    private static IResult Prediction(string agent, HttpRequest request, RollingWindows windows)
    {
        if (!TryTenant(request, out var tenant, out var error))
        {
            return error;
        }
        // The longest window by default: a prediction wants the most evidence.
        var window = windows.Windows.Select((w, i) => (w, i)).MaxBy(p => p.w.Duration).i;
        if (request.Query.ContainsKey("window") && !TryScope(request, windows, out _, out window, out error))
        {
            return error;
        }
        string? taskType = request.Query["taskType"];
        if (taskType is { Length: 0 or > 256 })
        {
            return BadRequest("taskType must be 1 to 256 characters when given.");
        }
        if (windows.Find(tenant, agent) is not { } found)
        {
            return UnknownAgent(tenant, agent);
        }
        var report = windows.Report(found, window);
        long invocations, successes;
        if (taskType is null)
        {
            invocations = report.Invocations;
            successes = report.Successes;
        }
        else
        {
            var tally = report.TaskTypes.FirstOrDefault(t => t.TaskType == taskType);
            invocations = tally?.Invocations ?? 0;
            successes = tally?.Successes ?? 0;
        }
        return Results.Ok(PredictionResponse.From(tenant, agent, taskType, windows.Windows[window].Name,
            SuccessPrediction.Predict(successes, invocations)));
    }

    private static bool TryTenant(HttpRequest request, out string tenant, out IResult error)
    {
        string? given = request.Query[RequestTenant.QueryName];
        tenant = RequestTenant.Resolve(request.HttpContext);
        error = Results.Empty;
        if (given is not null && (given.Length is 0 or > 256))
        {
            error = BadRequest("tenant must be 1 to 256 characters when given.");
            return false;
        }
        return true;
    }

    private static bool TryScope(HttpRequest request, RollingWindows windows, out string tenant, out int window, out IResult error)
    {
        window = 0;
        if (!TryTenant(request, out tenant, out error))
        {
            return false;
        }
        string? name = request.Query["window"];
        if (name is null)
        {
            return true;
        }
        window = windows.WindowIndexOf(name);
        if (window < 0)
        {
            error = BadRequest($"window must be one of {string.Join(", ", windows.Windows.Select(w => w.Name))}, was '{name}'.");
            return false;
        }
        return true;
    }

    private static IResult BadRequest(string message) => Results.BadRequest(new ApiError(message));

    private static IResult BadRequest(string message, string field) => Results.BadRequest(new ApiError(message, field));

    private static IResult UnknownAgent(string tenant, string agent) =>
        Results.NotFound(new ApiError($"No agent '{agent}' in tenant '{tenant}': it has sent no data the windows still hold."));
}
