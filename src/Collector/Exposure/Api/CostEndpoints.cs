using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Derived.Experiments.Statistics;
using PerfOtel.Collector.Derived.Models;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Exposure.Api;

/// <summary>The REST API of cost, budgets, models and experiments (JSON, camelCase).</summary>
public static class CostEndpoints
{
    /// <summary>
    /// Maps <c>GET /api/v1/costs?period=hourly|daily|monthly</c>, <c>GET /api/v1/budgets</c>,
    /// <c>GET /api/v1/models?window=1h</c>, <c>GET /api/v1/experiments</c> and <c>GET /api/v1/experiments/{id}</c>;
    /// each acts for the tenant <see cref="RequestTenant"/> decides.
    /// </summary>
    public static IEndpointRouteBuilder MapPerfOtelCostApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/api/v1/costs", Costs).Describe<CostResponse>("Cost and tokens of the current calendar period by agent, provider and model.",
            [new("period", "hourly, daily or monthly (UTC calendar periods); default daily.")]);
        endpoints.MapGet("/api/v1/budgets", BudgetsOf).Describe<BudgetsResponse>("Every configured budget of the tenant with its spend, projection and state.", []);
        endpoints.MapGet("/api/v1/models", ModelsOf).Describe<ModelsResponse>("Models compared on quality, latency and cost, with cheaper-model recommendations.",
            [new("window", "One of the model comparison's windows (Models:Windows); default the first.")]);
        endpoints.MapGet("/api/v1/experiments", Experiments).Describe<ExperimentsResponse>("Every experiment of the tenant, defined or seen in data, with its analysis: estimates with intervals per variant and metric, SRM check and verdict.", []);
        endpoints.MapGet("/api/v1/experiments/{id}", Experiment)
            .Describe<ExperimentResponse>("One experiment with its analysis.", [], StatusCodes.Status404NotFound);
        return endpoints;
    }

    private static IResult Costs(HttpRequest request, CostLedger ledger)
    {
        var periodText = request.Query["period"].ToString();
        var period = CalendarPeriod.Daily;
        if (periodText.Length > 0 && !CalendarPeriods.TryParse(periodText, out period))
        {
            return BadRequest($"unknown period '{periodText}'; expected hourly, daily or monthly");
        }
        var tenant = RequestTenant.Resolve(request.HttpContext);
        var now = ledger.Now;
        var rows = ledger.Rows(tenant, period);
        var total = rows.Aggregate(CostTotals.Zero, (sum, row) => sum + row.Totals);
        var start = period.StartOf(now);
        return Results.Ok(new CostResponse(tenant, period.Label(), start, period.EndOf(start), now,
            total.CostUsd, total.UnpricedTokens, total.Calls, total.UnpricedTokens == 0,
            rows.Select(r => new CostRowResponse(r.Agent, r.Provider, r.Model, r.Totals.Calls, r.Totals.PricedCalls,
                r.Totals.CostUsd, r.Totals.UnpricedTokens, TokensResponse.Of(r.Totals))).ToList()));
    }

    private static IResult BudgetsOf(HttpRequest request, BudgetTracker tracker, TimeProvider clock)
    {
        return Results.Ok(Budgets(tracker, RequestTenant.Resolve(request.HttpContext), clock.GetUtcNow()));
    }

    /// <summary>The answer of <c>GET /api/v1/budgets</c>, shared with the pages.</summary>
    internal static BudgetsResponse Budgets(BudgetTracker tracker, string tenant, DateTimeOffset now)
    {
        var ratios = tracker.RatiosFor(tenant);
        var budgets = tracker.Statuses(tenant).Select(s => new BudgetResponse(
            s.Scope.Agent,
            s.MonthToDateSpendUsd,
            s.ProjectedMonthSpendUsd,
            s.Periods.Select(p => new BudgetPeriodResponse(p.Period.Label(), p.PeriodStart, p.PeriodEnd, p.LimitUsd,
                p.SpendUsd, p.Utilization, StatusText(p.State), p.UnpricedTokens)).ToList())).ToList();
        return new BudgetsResponse(tenant, now, ratios.Warning, ratios.Critical, budgets);
    }

    private static IResult ModelsOf(HttpRequest request, ModelComparison comparison, IModelRecommendations recommendations)
    {
        var windowText = request.Query["window"].ToString();
        var window = windowText.Length == 0 ? comparison.Options.Windows[0] : comparison.Window(windowText);
        if (window is null)
        {
            return BadRequest($"unknown window '{windowText}'; expected {string.Join(" or ", comparison.Options.Windows.Select(w => w.Name))}");
        }
        return Results.Ok(Models(comparison, recommendations, RequestTenant.Resolve(request.HttpContext), window));
    }

    /// <summary>The answer of <c>GET /api/v1/models</c>, shared with the pages.</summary>
    internal static ModelsResponse Models(ModelComparison comparison, IModelRecommendations recommendations, string tenant,
        ComparisonWindow window) =>
        new(tenant, window.Name, comparison.Now, comparison.Models(tenant, window), recommendations.GetRecommendations(tenant),
            recommendations.GetExperimentAdvice(tenant));

    private static IResult Experiments(HttpRequest request, ExperimentRegistry registry)
    {
        return Results.Ok(ExperimentList(registry, RequestTenant.Resolve(request.HttpContext)));
    }

    /// <summary>The answer of <c>GET /api/v1/experiments</c>, shared with the pages.</summary>
    internal static ExperimentsResponse ExperimentList(ExperimentRegistry registry, string tenant) =>
        new(tenant, registry.DroppedInvocations(tenant), registry.Reports(tenant).Select(ExperimentResponse.Of).ToList());

    private static IResult Experiment(string id, HttpRequest request, ExperimentRegistry registry)
    {
        var tenant = RequestTenant.Resolve(request.HttpContext);
        return registry.Report(tenant, id) is { } report
            ? Results.Ok(ExperimentResponse.Of(report))
            : Results.NotFound(new ApiError($"no experiment '{id}' for tenant '{tenant}'"));
    }

    private static IResult BadRequest(string message) => Results.BadRequest(new ApiError(message));

    private static string StatusText(BudgetState state) => state switch
    {
        BudgetState.Critical => "critical",
        BudgetState.Warning => "warning",
        _ => "ok",
    };
}


internal sealed record TokensResponse(long Input, long Output, long CacheRead, long CacheCreation, long Reasoning)
{
    public static TokensResponse Of(CostTotals totals) => new(totals.Tokens.Input, totals.Tokens.Output,
        totals.Tokens.CacheRead, totals.Tokens.CacheCreation, totals.Tokens.Reasoning);
}

internal sealed record CostRowResponse(string? Agent, string Provider, string Model, long Calls, long PricedCalls,
    double CostUsd, long UnpricedTokens, TokensResponse Tokens);

/// <summary><c>complete</c> is false when unpriced tokens make <c>costUsd</c> a lower bound.</summary>
internal sealed record CostResponse(string Tenant, string Period, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd,
    DateTimeOffset AsOf, double CostUsd, long UnpricedTokens, long Calls, bool Complete, IReadOnlyList<CostRowResponse> Rows);

internal sealed record BudgetPeriodResponse(string Period, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd,
    double LimitUsd, double SpendUsd, double Utilization, string Status, long UnpricedTokens);

internal sealed record BudgetResponse(string? Agent, double MonthToDateSpendUsd, double ProjectedMonthSpendUsd,
    IReadOnlyList<BudgetPeriodResponse> Periods);

internal sealed record BudgetsResponse(string Tenant, DateTimeOffset AsOf, double WarningRatio, double CriticalRatio,
    IReadOnlyList<BudgetResponse> Budgets);

/// <summary>
/// <c>recommendations</c>: the cheaper-model advice, each with its <c>source</c> (<c>comparison</c>, or <c>experiment</c> with
/// the <c>experiment</c> that decided it); <c>experimentAdvice</c>: every decision a defined experiment takes for the
/// advice, advised or not.
/// </summary>
internal sealed record ModelsResponse(string Tenant, string Window, DateTimeOffset AsOf, IReadOnlyList<ModelStats> Models,
    IReadOnlyList<ModelRecommendation> Recommendations, IReadOnlyList<ExperimentAdvice> ExperimentAdvice);

/// <summary>
/// One experiment: <c>defined</c> says whether <c>Experiments:Definitions</c> declares it; <c>analysis</c> has the
/// estimates with intervals per variant and metric, the SRM check and the verdict (null before any variant exists).
/// The one response type of the experiment routes: the pages and any client read this shape.
/// </summary>
internal sealed record ExperimentResponse(string Experiment, bool Defined, ExperimentAnalysisResponse? Analysis)
{
    public static ExperimentResponse Of(ExperimentReport report) => new(report.Experiment, report.Defined,
        report.Analysis is { } analysis ? ExperimentAnalysisResponse.Of(analysis, report.Variants) : null);
}

/// <summary>A confidence interval: the estimate and its bounds.</summary>
internal sealed record IntervalResponse(double Estimate, double Lower, double Upper)
{
    public static IntervalResponse? Of(Interval? interval) =>
        interval is { } i && double.IsFinite(i.Estimate) && double.IsFinite(i.Lower) && double.IsFinite(i.Upper)
            ? new(i.Estimate, i.Lower, i.Upper)
            : null;
}

internal sealed record MetricAnalysisResponse(string Metric, long Samples, IntervalResponse? Estimate, IntervalResponse? Difference,
    IntervalResponse? Lift, double? PValue);

/// <summary>
/// <c>latencyP95</c>: the p95 latency in seconds with its distribution-free interval; <c>models</c>: the models that
/// served the variant's invocations (each invocation's last provider call), most invocations first; <c>servedBy</c>:
/// the one model when a single one did, else null.
/// </summary>
internal sealed record VariantAnalysisResponse(string Variant, long Invocations, double? IntendedWeight, IntervalResponse? LatencyP95,
    IReadOnlyList<MetricAnalysisResponse> Metrics, IReadOnlyList<VariantModel> Models, VariantModel? ServedBy);

/// <summary><c>chiSquare</c> is null when a variant of weight 0 received traffic (a mismatch whatever its size).</summary>
internal sealed record SampleRatioResponse(double? ChiSquare, int DegreesOfFreedom, double PValue, bool Mismatch);

/// <summary>The verdict is running, winner, no_difference, guardrail_violated or srm, with its reason.</summary>
internal sealed record ExperimentAnalysisResponse(string Control, string PrimaryMetric, double MinimumDetectableEffect,
    double ConfidenceLevel, int MinSamplesPerVariant, SampleRatioResponse? SampleRatio, string Verdict, string? Winner, string Reason,
    IReadOnlyList<VariantAnalysisResponse> Variants)
{
    public static ExperimentAnalysisResponse Of(ExperimentAnalysis a, IReadOnlyList<VariantSums> sums) => new(a.Control, a.PrimaryMetric, a.Tau, a.ConfidenceLevel,
        a.MinSamplesPerVariant,
        a.SampleRatio is { } srm
            ? new SampleRatioResponse(double.IsFinite(srm.ChiSquare) ? srm.ChiSquare : null, srm.DegreesOfFreedom, srm.PValue, srm.Mismatch)
            : null,
        ExperimentVerdictNames.Name(a.Verdict), a.Winner, a.Reason,
        a.Variants.Select(v => new VariantAnalysisResponse(v.Variant, v.Invocations, v.IntendedWeight, IntervalResponse.Of(v.LatencyP95),
            v.Metrics.Select(m => new MetricAnalysisResponse(m.Metric, m.Samples, IntervalResponse.Of(m.Estimate),
                IntervalResponse.Of(m.Difference), IntervalResponse.Of(m.Lift), m.PValue)).ToList(),
            sums.FirstOrDefault(s => s.Variant == v.Variant)?.Models ?? [],
            sums.FirstOrDefault(s => s.Variant == v.Variant)?.ServedBy)).ToList());
}

/// <summary><c>droppedInvocations</c>: the tenant's invocations beyond the experiment and variant caps.</summary>
internal sealed record ExperimentsResponse(string Tenant, long DroppedInvocations, IReadOnlyList<ExperimentResponse> Experiments);
