using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PerfOtel.Benchmarks.Analytics;
using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Exposure.Pages;
using PerfOtel.Collector.Records;

namespace PerfOtel.Benchmarks.Pages;

/// <summary>
/// Server-side render time of the /ui/ pages for a tenant of 1 000 agents (two hours of traffic, one invocation per
/// agent per minute): the overview (health, every agent in a table, breaches, budgets, two charts) and one agent's page
/// (every window, reliability diagram, bin counts, task types, worst runs). Baseline: serializing the REST answers the
/// overview is drawn from (health, agent list, alerts, budgets) to JSON, which is what the REST API does for the same
/// data. Figures are in docs/collector/ui.md.
/// Run: dotnet run -c Release --project benchmarks/PerfOtel.Benchmarks -- --filter '*UiPage*' --job short
/// </summary>
[MemoryDiagnoser]
public class UiPageBenchmarks
{
    private const int Agents = 1_000;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private AnalyticsBenchmarkHost host = null!;
    private BudgetTracker budgets = null!;
    private PageScope overviewScope = null!;
    private PageScope agentScope = null!;
    private AgentMetricsResponse agent = null!;
    private InvocationListResponse noRuns = null!;
    private AlertTracker alertTracker = null!;

    [GlobalSetup]
    public void Setup()
    {
        host = new AnalyticsBenchmarkHost();
        for (var minute = 0; minute < 120; minute++)
        {
            for (var a = 0; a < Agents; a++)
            {
                host.Observer.Apply(host.Batch(Name(a), AnalyticsBenchmarkHost.Now.AddMinutes(-minute)));
            }
        }
        var budgetOptions = new BudgetOptions();
        budgets = new BudgetTracker(Options.Create(budgetOptions), Options.Create(new ThresholdOptions()), host.Clock);
        var options = new UiOptions();
        overviewScope = new PageScope("default", 0, host.Windows.Windows[0].Name, string.Empty, false, options);
        var longest = host.Windows.Windows.Count - 1;
        agentScope = overviewScope with { Window = longest, WindowName = host.Windows.Windows[longest].Name };
        agent = AnalyticsQueries.AgentMetrics(host.Windows, "default", Name(7), null)!;
        alertTracker = new AlertTracker(host.Windows, null, NullLogger<AlertTracker>.Instance);
        noRuns = new InvocationListResponse("default", [], null);
        Console.WriteLine($"// overview page: {Overview().Length} characters, agent page: {Agent().Length} characters");
    }

    [GlobalCleanup]
    public void Cleanup() => host.Dispose();

    [Benchmark(Baseline = true, Description = "REST JSON of the overview's answers")]
    public int RestJson()
    {
        var length = JsonSerializer.SerializeToUtf8Bytes(AnalyticsQueries.Health(host.Windows, "default", 0), Json).Length;
        length += JsonSerializer.SerializeToUtf8Bytes(AnalyticsQueries.AgentList(host.Windows, "default", 0), Json).Length;
        length += JsonSerializer.SerializeToUtf8Bytes(AnalyticsQueries.OpenAlerts(Evaluate(), host.Windows.Windows[0].Name), Json).Length;
        length += JsonSerializer.SerializeToUtf8Bytes(CostEndpoints.Budgets(budgets, "default", host.Clock.Now), Json).Length;
        return length;
    }

    [Benchmark(Description = "overview page, 1 000 agents")]
    public string Overview() => OverviewPage.Render(overviewScope, host.Windows, budgets, Evaluate(), host.Clock.Now);

    private IReadOnlyList<AlertRecord> Evaluate() => alertTracker.EvaluateAsync("default", CancellationToken.None).GetAwaiter().GetResult();

    [Benchmark(Description = "agent page (data gathered and rendered)")]
    public string Agent() => AgentPage.Render(agentScope,
        AnalyticsQueries.AgentMetrics(host.Windows, "default", agent.Agent, null)!, noRuns, host.Clock.Now);

    private static string Name(int agent) => $"agent-{agent:0000}";
}
