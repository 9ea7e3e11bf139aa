using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Collector.Derived.Cardinality;

namespace PerfOtel.Collector.Tests.Cardinality;

/// <summary>The collector as shipped (real receiver, SQLite in a temporary directory) with cardinality settings.</summary>
internal sealed class GuardedCollector(string dataDirectory, Dictionary<string, string> settings) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Storage:DataDirectory", dataDirectory);
        // Derive the analytics on every scrape rather than in the background, so that a scrape right after an
        // acknowledged request already shows it.
        builder.UseSetting("Analytics:ExpositionRefreshInterval", "00:00:00");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }
}

/// <summary>
/// Distinct values far beyond the limits sent through OTLP: /metrics stays bounded, the folded data lands in the
/// overflow series with its totals intact, the self-metric counts it, and a restart assigns the same values.
/// </summary>
public sealed class CardinalityEndToEndTests : IDisposable
{
    private const string Overflow = CardinalityGuard.Overflow;
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("perfotel-cardinality-").FullName;
    private readonly DateTimeOffset start = DateTimeOffset.UtcNow.AddMinutes(-20);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Ten_times_the_limit_of_agents_and_models_keeps_metrics_bounded_and_totals_in_overflow()
    {
        const int agents = 50;
        await using var collector = new GuardedCollector(dataDirectory, new()
        {
            ["Cardinality:MaxAgentsPerTenant"] = "5",
            ["Cardinality:MaxModelsPerTenant"] = "5",
        });
        using var client = collector.CreateClient();
        // One request per agent, in start-time order: agent i calls model i at a cost of i cents.
        var sent = Enumerable.Range(0, agents).Select(i => new SentInvocation("default", $"agent-{i:00}", start.AddSeconds(i),
            Model: $"model-{i:00}", CostUsd: i / 100.0)).ToList();
        foreach (var invocation in sent)
        {
            await CardinalityTraffic.SendAsync(client, [invocation]);
        }

        var samples = Sample.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));

        string[] keptAgents = [Overflow, "agent-00", "agent-01", "agent-02", "agent-03", "agent-04"];
        Assert.Equal(keptAgents, AgentsOf(samples, "perfotel_agent_window_invocations"));
        // Every per-agent analytics series, whatever its other labels, names only the kept agents.
        Assert.All(samples.Where(s => s.Name.StartsWith("perfotel_agent_", StringComparison.Ordinal)),
            s => Assert.Contains(s.Label("agent"), keptAgents));
        var cost = samples.Where(s => s.Name == "perfotel_cost_usd_total" && s.Label("tenant") == "default").ToList();
        Assert.Equal([Overflow, "model-00", "model-01", "model-02", "model-03", "model-04"],
            cost.Select(s => s.Label("model")).Distinct().Order(StringComparer.Ordinal));

        // Totals stay right: the overflow series hold exactly what was folded.
        var foldedCost = sent.Skip(5).Sum(i => i.CostUsd);
        Assert.Equal(foldedCost, cost.Where(s => s.Label("model") == Overflow).Sum(s => s.Value), 9);
        Assert.Equal(sent.Sum(i => i.CostUsd), cost.Sum(s => s.Value), 9);
        Assert.Equal(agents - 5, samples.Where(s => s.Name == "perfotel_agent_window_invocations" && s.Label("agent") == Overflow
            && s.Label("window") == "1h").Sum(s => s.Value));

        // Each folded record is counted once per dimension: 45 invocations and their 45 calls by agent, 45 calls by model.
        Assert.Equal(90, Counter(samples, "default", "agent"));
        Assert.Equal(45, Counter(samples, "default", "model"));
        Assert.Equal(5, Tracked(samples, "default", "agent"));
        Assert.Equal(5, Tracked(samples, "default", "model"));

        // The REST API shows the overflow agent like any other.
        using var overflow = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/api/v1/metrics/agents/{Overflow}?window=1h", UriKind.Relative)));
        Assert.Equal(agents - 5, overflow.RootElement.GetProperty("windows")[0].GetProperty("invocations").GetInt64());
        using var folded = await client.GetAsync(new Uri("/api/v1/metrics/agents/agent-30?window=1h", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, folded.StatusCode);
    }

    [Fact]
    public async Task Tenants_beyond_the_limit_share_the_overflow_tenant_and_a_tenant_override_raises_one_tenants_limit()
    {
        await using var collector = new GuardedCollector(dataDirectory, new()
        {
            ["Cardinality:MaxTenants"] = "2",
            ["Cardinality:MaxAgentsPerTenant"] = "2",
            ["Cardinality:Tenants:big:MaxAgentsPerTenant"] = "8",
        });
        using var client = collector.CreateClient();
        // 20 tenants of 1 agent each (the first two keep their own), then 8 agents each for "big" and "t00".
        await CardinalityTraffic.SendAsync(client, Enumerable.Range(0, 20).Select(i => new SentInvocation($"t{i:00}", "solo", start.AddSeconds(i))));
        await CardinalityTraffic.SendAsync(client, Enumerable.Range(0, 8).SelectMany(i => new[]
        {
            new SentInvocation("big", $"agent-{i}", start.AddSeconds(30 + i)),
            new SentInvocation("t00", $"agent-{i}", start.AddSeconds(30 + i)),
        }));

        var samples = Sample.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        var invocations = samples.Where(s => s.Name == "perfotel_agent_window_invocations" && s.Label("window") == "1h").ToList();

        Assert.Equal([Overflow, "big", "t00", "t01"], invocations.Select(s => s.Label("tenant")).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(18, invocations.Where(s => s.Label("tenant") == Overflow).Sum(s => s.Value));
        Assert.Equal(18, Counter(samples, Overflow, "tenant"));
        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"agent-{i}"), AgentsOf(invocations, "perfotel_agent_window_invocations", "big"));
        Assert.Equal([Overflow, "agent-0", "solo"], AgentsOf(invocations, "perfotel_agent_window_invocations", "t00"));
        Assert.Equal(7, invocations.Where(s => s.Label("tenant") == "t00" && s.Label("agent") == Overflow).Sum(s => s.Value));
        Assert.Equal(7, Counter(samples, "t00", "agent"));
        Assert.Equal(0, Counter(samples, "big", "agent"));
        Assert.Equal(2, Tracked(samples, "t00", "agent"));
        Assert.Equal(8, Tracked(samples, "big", "agent"));
    }

    [Fact]
    public async Task Evaluation_names_beyond_the_limit_are_counted_while_accuracy_always_reaches_the_analytics()
    {
        await using var collector = new GuardedCollector(dataDirectory, new() { ["Cardinality:MaxEvaluationNamesPerTenant"] = "3" });
        using var client = collector.CreateClient();
        await CardinalityTraffic.SendAsync(client, Enumerable.Range(0, 10)
            .Select(i => new SentInvocation("default", "judge", start.AddSeconds(i), EvaluationName: $"criterion-{i}")));
        await CardinalityTraffic.SendAsync(client, [new SentInvocation("default", "judge", start.AddSeconds(20), EvaluationName: "accuracy")]);

        var samples = Sample.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));

        Assert.Equal(7, Counter(samples, "default", "evaluation"));
        Assert.Equal(3, Tracked(samples, "default", "evaluation"));
        Assert.Equal(1, samples.Single(s => s.Name == "perfotel_agent_accuracy_samples" && s.Label("agent") == "judge" && s.Label("window") == "1h").Value);
    }

    [Fact]
    public async Task A_restart_rebuilds_the_same_assignment_as_live_ingestion()
    {
        var settings = new Dictionary<string, string>
        {
            ["Cardinality:MaxTenants"] = "2",
            ["Cardinality:MaxAgentsPerTenant"] = "2",
            ["Cardinality:MaxModelsPerTenant"] = "3",
            ["Cardinality:MaxExperimentVariantsPerTenant"] = "2",
        };
        // 24 requests in start-time order; tenants, agents, models and variants recur so that some values first
        // seen past the limit come back later (they must stay folded), and a folded agent calls a kept model.
        var sent = Enumerable.Range(0, 24).Select(i => new SentInvocation(
            Tenant: $"tenant-{i % 3}", Agent: $"agent-{i % 7}", Start: start.AddSeconds(10 * i), Model: $"model-{i % 5}",
            CostUsd: 0.01 * (i + 1), Experiment: "exp", Variant: $"v{i % 4}")).ToList();

        List<Sample> live;
        await using (var collector = new GuardedCollector(dataDirectory, settings))
        {
            using var client = collector.CreateClient();
            foreach (var invocation in sent)
            {
                await CardinalityTraffic.SendAsync(client, [invocation]);
            }
            live = Sample.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        }
        await using (var restarted = new GuardedCollector(dataDirectory, settings))
        {
            using var client = restarted.CreateClient();
            var rebuilt = Sample.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));

            // The analytics windows, the model comparison and the experiments are rebuilt (the cost counters restart
            // from zero, as counters do): same series, same values.
            foreach (var name in new[] { "perfotel_agent_window_invocations", "perfotel_agent_window_cost_usd", "perfotel_model_calls",
                         "perfotel_experiment_invocations" })
            {
                var expected = Series(live, name);
                Assert.NotEmpty(expected);
                Assert.Equal(expected, Series(rebuilt, name));
            }
            foreach (var name in new[] { "perfotel_agent_window_invocations", "perfotel_model_calls", "perfotel_experiment_invocations" })
            {
                Assert.Contains(Series(live, name), s => s.Contains(Overflow, StringComparison.Ordinal));
            }
            Assert.Equal(
                live.Where(s => s.Name == "perfotel_collector_cardinality_tracked").Select(s => $"{s.Label("tenant")}|{s.Label("dimension")}={s.Value}").Order(),
                rebuilt.Where(s => s.Name == "perfotel_collector_cardinality_tracked").Select(s => $"{s.Label("tenant")}|{s.Label("dimension")}={s.Value}").Order());
        }
    }

    [Fact]
    public async Task Invalid_cardinality_settings_stop_the_collector_naming_the_setting()
    {
        await using var collector = new CollectorFactory(new() { ["Cardinality:Tenants:acme:MaxModelsPerTenant"] = "0" });

        var error = Assert.Throws<OptionsValidationException>(() => collector.CreateClient());

        Assert.Contains("Cardinality:Tenants:acme:MaxModelsPerTenant", error.Message, StringComparison.Ordinal);
    }

    private static List<string> AgentsOf(List<Sample> samples, string name, string tenant = "default") =>
        samples.Where(s => s.Name == name && s.Label("tenant") == tenant).Select(s => s.Label("agent"))
            .Distinct().Order(StringComparer.Ordinal).ToList();

    private static double Counter(List<Sample> samples, string tenant, string dimension) =>
        samples.Where(s => s.Name == "perfotel_collector_cardinality_overflow_total" && s.Label("tenant") == tenant
            && s.Label("dimension") == dimension).Sum(s => s.Value);

    private static double Tracked(List<Sample> samples, string tenant, string dimension) =>
        samples.Single(s => s.Name == "perfotel_collector_cardinality_tracked" && s.Label("tenant") == tenant
            && s.Label("dimension") == dimension).Value;

    /// <summary>A metric's series as "tenant|agent|provider|model|experiment|variant|window|outcome=value", sorted.</summary>
    private static List<string> Series(List<Sample> samples, string name) =>
        samples.Where(s => s.Name == name)
            .Select(s => string.Join('|', new[] { "tenant", "agent", "provider", "model", "experiment", "variant", "window", "outcome" }.Select(s.Label)) + "=" + s.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture))
            .Order(StringComparer.Ordinal).ToList();
}
