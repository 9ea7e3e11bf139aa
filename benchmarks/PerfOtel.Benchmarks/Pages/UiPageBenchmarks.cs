using BenchmarkDotNet.Attributes;

namespace PerfOtel.Benchmarks.Pages;

/// <summary>
/// Server-side time of each /ui/ page for a tenant of 1 000 agents, over the collector's real request path
/// (<see cref="UiBenchmarkSite"/>: the real Program in process on a real SQLite store with two hours of traffic): the
/// overview (health, every agent in a table, breaches, budgets, charts), one agent's page (every window, peer
/// standing, reliability diagram, bin counts, task types, the worst of its 1 000 most recent runs from the store), the
/// models page, the experiments page and one run's page. The warm rows are requests with no new data since the last
/// one; the "after new data" rows record one new invocation first (what the ingest writer's derivation does), so the
/// request is the first after new data: the tenant-wide passes, the tables and the charts are computed again.
/// Figures are in docs/collector/ui.md; <c>ui-cpu</c> (<see cref="UiCpuDriver"/>) gives CPU time per request.
/// Run in process (WebApplicationFactory finds the collector from the benchmark's own output directory):
/// dotnet run -c Release --project benchmarks/PerfOtel.Benchmarks -- --filter '*UiPage*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class UiPageBenchmarks
{
    private UiBenchmarkSite site = null!;
    private int turn;

    [GlobalSetup]
    public void Setup()
    {
        site = new UiBenchmarkSite();
        foreach (var path in Paths())
        {
            Console.WriteLine($"// GET {path}: {site.Get(path).Length} characters");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => site.Dispose();

    [Benchmark(Description = "overview")]
    public string Overview() => site.Get("/ui/");

    [Benchmark(Description = "agent")]
    public string Agent() => site.Get("/ui/agents/" + UiBenchmarkSite.Agent);

    [Benchmark(Description = "models")]
    public string Models() => site.Get("/ui/models");

    [Benchmark(Description = "experiments")]
    public string Experiments() => site.Get("/ui/experiments");

    [Benchmark(Description = "run")]
    public string Run() => site.Get(site.RunPath);

    [Benchmark(Description = "overview, first request after new data")]
    public string OverviewAfterNewData()
    {
        site.NewData($"agent-{turn++ % UiBenchmarkSite.Agents:0000}");
        return site.Get("/ui/");
    }

    [Benchmark(Description = "agent, first request after new data")]
    public string AgentAfterNewData()
    {
        site.NewData(UiBenchmarkSite.Agent);
        return site.Get("/ui/agents/" + UiBenchmarkSite.Agent);
    }

    internal IEnumerable<string> Paths() => ["/ui/", "/ui/agents/" + UiBenchmarkSite.Agent, "/ui/models", "/ui/experiments", site.RunPath];
}
