using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Analytics.Formulas;
using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Runs;
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
        api.MapGet("/alerts", Alerts).Describe<AlertsResponse>("Thresholds the tenant's agents breach now.", [Window]);
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
    private static readonly QueryParameter TaskType = new("taskType", "Predict for this task type only (1 to 256 characters).");

    private static IResult Health(HttpRequest request, RollingWindows windows)
    {
        if (!TryScope(request, windows, out var tenant, out var window, out var error))
        {
            return error;
        }
        var system = windows.TenantReport(tenant, window);
        var agents = windows.Agents(tenant, window).Select(a => windows.Report(a, window)).ToList();
        var byBand = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            ["excellent"] = 0, ["good"] = 0, ["fair"] = 0, ["poor"] = 0,
        };
        foreach (var agent in agents)
        {
            if (agent.HealthBand is { } band)
            {
                byBand[band]++;
            }
        }
        var breaches = Breaches(windows, tenant, window, agents);
        var critical = breaches.Count(b => b.Level == ThresholdEvaluator.Critical);
        var warning = breaches.Count(b => b.Level == ThresholdEvaluator.Warning);
        return Results.Ok(new HealthResponse(TenantHealthStatus.Of(system, critical, warning), tenant, windows.Windows[window].Name,
            windows.Now, system.HealthScore, system.HealthBand, agents.Count, system.Invocations, byBand, critical, warning));
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
        var summaries = windows.Agents(tenant, window)
            .Select(a => windows.Report(a, window))
            .Select(r => new AgentSummary(r.Agent!, r.Invocations, r.SuccessRate, r.ErrorRate, r.LatencyP95Seconds,
                r.Accuracy, r.Calibration.ExpectedCalibrationError, r.CostPerInvocationUsd, r.HealthScore, r.HealthBand,
                r.Anomaly.Score, r.AgentType, r.LastSeen, r.Status))
            .ToList();
        return Results.Ok(new AgentListResponse(tenant, windows.Windows[window].Name, summaries));
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
        if (windows.Find(tenant, agent) is not { } found)
        {
            return UnknownAgent(tenant, agent);
        }
        var reports = Enumerable.Range(0, windows.Windows.Count)
            .Where(w => only is null || w == only)
            .Select(w =>
            {
                var report = windows.Report(found, w);
                var peers = windows.Agents(tenant, w).Where(a => a != found).Select(a => windows.Report(a, w)).Append(report).ToList();
                return report with { Standing = PeerStandings.Rank(peers, windows.ThresholdsFor(tenant))[agent] };
            })
            .ToList();
        return Results.Ok(new AgentMetricsResponse(tenant, agent, reports));
    }

    private static IResult Alerts(HttpRequest request, RollingWindows windows)
    {
        if (!TryScope(request, windows, out var tenant, out var window, out var error))
        {
            return error;
        }
        return Results.Ok(new AlertsResponse(tenant, windows.Windows[window].Name, windows.Now,
            Breaches(windows, tenant, window, windows.Agents(tenant, window).Select(a => windows.Report(a, window)))));
    }

    /// <summary>Runs of a breaching agent examined for its worst runs: the newest in the window.</summary>
    internal const int WorstRunCandidates = 500;

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

        var agents = WithStandings(windows, tenant, windows.Agents(tenant, window).Select(a => windows.Report(a, window)).ToList());
        var breaches = Breaches(windows, tenant, window, agents);
        // Cheaper models of equal quality come from the model comparison (issue 6), when it is registered.
        var modelRecommendations = services.GetService<PerfOtel.Collector.Derived.Models.IModelRecommendations>()
            ?.GetRecommendations(tenant).Select(r => r.Reason) ?? [];
        var recommendations = breaches
            .Select(b => $"{b.Agent}: {b.Message}. {b.Recommendation}")
            .Concat(modelRecommendations)
            .ToList();
        var worst = await WorstRunsAsync(store, windows, tenant, agents, breaches, cancellationToken).ConfigureAwait(false);
        var report = new ReportResponse(tenant, windows.Windows[window].Name, windows.Now,
            windows.TenantReport(tenant, window), agents, breaches, recommendations, windows.ThresholdsFor(tenant), worst);
        // Experiments are cumulative, not windowed: the Markdown report lists them after the window's figures.
        var experiments = services.GetService<PerfOtel.Collector.Derived.Experiments.ExperimentRegistry>()?.Reports(tenant) ?? [];
        return markdown
            ? Results.Text(MarkdownReport.Render(report, experiments), MarkdownMediaType + "; charset=utf-8")
            : Results.Ok(report);
    }

    /// <summary>Each breaching agent's runs that most explain its breaches (see <see cref="WorstRuns"/>).</summary>
    private static async Task<List<WorstRun>> WorstRunsAsync(IExecutionStore store, RollingWindows windows, string tenant,
        List<AgentReport> agents, List<ThresholdBreach> breaches, CancellationToken cancellationToken)
    {
        var worst = new List<WorstRun>();
        if (store is not IRunStore runs)
        {
            return worst;
        }
        var thresholds = windows.ThresholdsFor(tenant);
        foreach (var group in breaches.GroupBy(b => b.Agent, StringComparer.Ordinal))
        {
            var report = agents.FirstOrDefault(a => a.Agent == group.Key);
            if (report is null)
            {
                continue;
            }
            var rows = await runs.SearchRunsAsync(new RunSearch
            {
                Tenant = tenant, AgentName = group.Key, Since = report.WindowStart, Until = report.WindowEnd,
                Limit = WorstRunCandidates,
            }, cancellationToken).ConfigureAwait(false);
            var summaries = rows.Select(r => RunWarnings.Summarize(r.Stored, r.Calls, thresholds, report.LatencyP95Seconds))
                .ToList();
            foreach (var breach in group)
            {
                worst.AddRange(WorstRuns.Of(breach, summaries));
            }
        }
        return worst;
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

    /// <summary>The reports of a tenant's agents, each with its standing among them.</summary>
    private static List<AgentReport> WithStandings(RollingWindows windows, string tenant, List<AgentReport> reports)
    {
        var standings = PeerStandings.Rank(reports, windows.ThresholdsFor(tenant));
        return reports.Select(r => r with { Standing = standings.GetValueOrDefault(r.Agent ?? string.Empty) }).ToList();
    }

    private static List<ThresholdBreach> Breaches(RollingWindows windows, string tenant, int window, IEnumerable<AgentReport> agents)
    {
        return agents
            .SelectMany(r => ThresholdEvaluator.Evaluate(r, windows.ThresholdsFor(tenant, r.Agent), windows.Options.AnomalyThreshold))
            .OrderBy(b => b.Level == ThresholdEvaluator.Critical ? 0 : 1)
            .ThenBy(b => b.Agent, StringComparer.Ordinal)
            .ToList();
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

    private static IResult UnknownAgent(string tenant, string agent) =>
        Results.NotFound(new ApiError($"No agent '{agent}' in tenant '{tenant}': it has sent no data the windows still hold."));
}
