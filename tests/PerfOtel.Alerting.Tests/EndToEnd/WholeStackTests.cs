using System.Globalization;
using System.Text;
using System.Text.Json;
using PerfOtel.Testing;
using Xunit.Abstractions;

namespace PerfOtel.Alerting.Tests.EndToEnd;

/// <summary>
/// The whole stack as a user runs it, on 127.0.0.1: the collector and the agent fleet as their own processes (one agent
/// degraded), a real Prometheus scraping both with the shipped rules, a real Alertmanager with the shipped routing, and
/// a webhook listener in the test standing in for the pager and chat services.
/// <para>
/// Bounded under 5 minutes by test-only transforms of time, never of logic: every rule's <c>for:</c> becomes 30 s
/// (long enough that the first seconds' rates from a handful of invocations cannot fire anything; short enough to
/// run), Alertmanager's group_wait/group_interval become 1 s/2 s, and the collector's 1h and 24h windows span 60 s and
/// 120 s (see <see cref="CollectorSettings"/>). Scrapes and rule evaluations run every second.
/// Thresholds, expressions, routes, group_by and inhibition are the shipped ones. Rules read multi-day windows
/// (avg7d, the 3d SLO window) over the few minutes Prometheus has: they average what exists, so they still
/// return data and still judge the run as a whole.
/// </para>
/// <para>
/// The fleet runs in the background (20 invocations/s, seed fixed, half the answers get feedback) until the test ends,
/// so instant queries see live rates. support-triage is degraded (a plain, priced, calibrated agent: everything it
/// raises is due to the degradation). Alerts the healthy fleet must raise because of its deliberate quirks, and why,
/// are listed in <see cref="QuirkAlerts"/>; any other alert for a non-degraded agent, the tenant or the collector fails
/// the test. Every dashboard target runs with $tenant = the fleet's tenant, $agent = .*, $__rate_interval = 1m,
/// $__interval = 1s and $__range = 10m, and must return at least one series (polled: trends compare with the
/// previous window, which has data a minute into the run). Every wait shares one 3-minute deadline.
/// </para>
/// </summary>
[Collection(Name)]
public sealed class WholeStackTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>
    /// Runs with no other test class beside it: the fleet's invocations take real time (their sleeps are the latencies
    /// the rules judge), and other classes' processes on the same 2 cores stretched them toward a healthy agent's
    /// latency threshold.
    /// </summary>
    public const string Name = "whole stack, alone";

    private const string Tenant = "e2e";
    private const string DegradedAgent = "support-triage";
    private static readonly TimeSpan PendingFor = TimeSpan.FromSeconds(30);
    // One budget for every wait once the stack runs (it settles in about a minute); with the processes' own bounded
    // start-ups the test stays under 5 minutes even when it fails.
    private static readonly TimeSpan StackDeadline = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Alerts the healthy fleet raises on purpose, with the behaviour of samples/AgentFleet/Fleet/FleetCatalog.cs
    /// that causes each.
    /// </summary>
    private static readonly IReadOnlyDictionary<(string Alert, string Agent), string> QuirkAlerts =
        new Dictionary<(string, string), string>
        {
            // Runs a self-hosted model the pricing catalog cannot price.
            [("PerfOtelUnpricedModelTokens", "code-reviewer")] = "llama-3.1-70b-instruct on vllm has no price",
            // Its primary provider fails a quarter of the attempts, which is what exercises retries and fallbacks.
            [("PerfOtelProviderErrorRateHigh", "research-assistant")] = "openai fails 25 % of its attempts",
            // Overconfident: states 85-99 % confidence and is right 60 % of the time, which is a calibration drift and
            // also a low success rate, a high error rate and a burnt error budget.
            [("PerfOtelAgentCalibrationDrift", "sales-forecaster")] = "confidence ~0.92, success ~0.6",
            [("PerfOtelAgentSuccessRateLow", "sales-forecaster")] = "success ~0.6 < 0.8",
            [("PerfOtelAgentErrorRateHigh", "sales-forecaster")] = "failure ~0.4 > 0.15",
            [("PerfOtelAgentErrorBudgetBurn", "sales-forecaster")] = "error ~0.4 is 8x the 5 % budget",
        };

    /// <summary>
    /// The collector's configuration for the run. Its rolling windows keep the names the rules and dashboards select
    /// (1h, 24h) but span 60 s and 120 s in 5 s buckets: time compressed like the rules' for:, so that a previous
    /// window (for trends) and the anomaly detector's six completed buckets exist within minutes. A tenant budget far
    /// above what the run spends gives the budget panels data while the budget alerts stay quiet.
    /// </summary>
    private static readonly Dictionary<string, string> CollectorSettings = new(FleetProcess.ExperimentSettings(Tenant))
    {
        ["Analytics:Windows:0:Name"] = "1h",
        ["Analytics:Windows:0:Duration"] = "00:01:00",
        ["Analytics:Windows:0:BucketWidth"] = "00:00:05",
        ["Analytics:Windows:1:Name"] = "24h",
        ["Analytics:Windows:1:Duration"] = "00:02:00",
        ["Analytics:Windows:1:BucketWidth"] = "00:00:05",
        [$"Budgets:Tenants:{Tenant}:MonthlyUsd"] = "100000",
    };

    private readonly string directory = Directory.CreateTempSubdirectory("perfotel-stack-").FullName;

    [Fact]
    public async Task DegradedAgent_PagesThroughAlertmanager_HealthyAgentsRaiseOnlyTheirQuirks_AndEveryDashboardQueryHasData()
    {
        using var webhook = new WebhookReceiver();
        var rules = StackConfiguration.RulesWithShortFor(Directory.CreateDirectory(Path.Combine(directory, "rules")).FullName, PendingFor);
        var alertmanagerConfig = StackConfiguration.AlertmanagerWithWebhooks(directory, webhook);

        await using var collector = await CollectorProcess.StartAsync(Path.Combine(directory, "collector"), CollectorSettings);
        var fleetPort = TestPorts.GetFree();
        await using var fleet = FleetProcess.StartInBackground(
        [
            "--endpoint", collector.BaseAddress.ToString(), "--duration", "600", "--rate", "20", "--seed", "7",
            "--tenant", Tenant, "--feedback", "0.5", "--prometheus-port", fleetPort.ToString(CultureInfo.InvariantCulture),
            "--agent-degraded", DegradedAgent,
        ]);
        await using var alertmanager = await AlertmanagerServer.StartAsync(alertmanagerConfig);
        await using var prometheus = await PrometheusServer.StartAsync(
            new Dictionary<string, string[]>
            {
                // The rules recognise a collector by its job name.
                ["perfotel-collector"] = [$"127.0.0.1:{collector.Port}"],
                ["agents"] = [$"127.0.0.1:{fleetPort}"],
            },
            ruleFiles: rules,
            alertmanagerTarget: alertmanager.Target);

        var stackDeadline = DateTime.UtcNow + StackDeadline;
        TimeSpan Remaining() => stackDeadline - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;

        string Diagnostics() =>
            $"\nwebhook got: {string.Join("; ", webhook.Alerts.Select(a => $"{a.Receiver}:{a.Name}/{a.Agent}"))}" +
            $"\nfleet:\n{Tail(fleet.Output)}\ncollector:\n{Tail(collector.Process.Output)}" +
            $"\nalertmanager:\n{Tail(alertmanager.Log)}\nprometheus:\n{Tail(prometheus.Log)}";

        // (1) The degraded agent pages: critical, routed to the pager receiver, with its labels and annotations.
        var page = await webhook.WaitForAsync(
            a => a.Name == "PerfOtelAgentSuccessRateLow" && a.Agent == DegradedAgent && a.Status == "firing", Remaining());
        Assert.True(page is not null, $"PerfOtelAgentSuccessRateLow for {DegradedAgent} never reached the webhook within {StackDeadline} of the stack's start." + Diagnostics());
        Assert.Equal("pager", page.Receiver);
        Assert.Equal("critical", page.Labels["severity"]);
        Assert.Equal(Tenant, page.Labels["tenant"]);
        Assert.Equal("1h", page.Labels["window"]);
        foreach (var annotation in new[] { "summary", "description", "recommendation", "runbook_url" })
        {
            Assert.False(string.IsNullOrWhiteSpace(page.Annotations.GetValueOrDefault(annotation)), $"the page has no {annotation}");
        }
        Assert.Contains(DegradedAgent, page.Annotations["description"], StringComparison.Ordinal);
        Assert.Contains(Tenant, page.Annotations["description"], StringComparison.Ordinal);
        Assert.Contains("#perfotelagentsuccessratelow", page.Annotations["runbook_url"], StringComparison.Ordinal);

        // The page inhibits the same agent's warnings (shipped inhibit_rules): Alertmanager holds them as suppressed.
        var inhibited = await WaitForInhibitedWarningAsync(alertmanager, Remaining());
        Assert.True(inhibited is not null, $"no warning of {DegradedAgent} was inhibited by its critical alert in Alertmanager." + Diagnostics());

        // (2) Once the quirks have had their `for:` to fire, the alerts ever fired are exactly the degraded agent's plus
        // the quirks: nothing for a healthy agent, the tenant or the collector.
        var expected = QuirkAlerts.Keys.ToHashSet();
        await prometheus.WaitForAsync("ALERTS{alertstate=\"firing\"}",
            firing => expected.IsSubsetOf(firing.Select(s => (s.Labels["alertname"], s.Labels.GetValueOrDefault("agent", "")))),
            Remaining());

        // (3) Every dashboard query returns data.
        var queries = DashboardQueries.All(new Dictionary<string, string>
        {
            ["datasource"] = "prometheus",
            ["tenant"] = Tenant,
            ["agent"] = ".*",
            ["experiment"] = ".*",
            ["__rate_interval"] = "1m",
            ["__interval"] = "1s",
            ["__range"] = "10m",
        });
        Assert.NotEmpty(queries);
        // Polled: a trend needs the collector's previous window to have data, a minute into the run.
        var pending = queries;
        while (true)
        {
            var stillEmpty = new List<DashboardQuery>();
            foreach (var query in pending)
            {
                if ((await prometheus.QueryAsync(query.PromQl)).Count == 0)
                {
                    stillEmpty.Add(query);
                }
            }
            pending = stillEmpty;
            if (pending.Count == 0 || Remaining() == TimeSpan.Zero)
            {
                break;
            }
            await Task.Delay(2000);
        }
        var empty = pending.Select(q => q.ToString()).ToList();
        Assert.True(empty.Count == 0,
            $"{empty.Count} of {queries.Count} dashboard queries returned no data:\n  {string.Join("\n  ", empty)}" + Diagnostics());

        // (2, continued) Checked last, so that everything that fired while the dashboards were queried counts too.
        var everFired = (await prometheus.QueryAsync("last_over_time(ALERTS{alertstate=\"firing\"}[30m])"))
            .Select(s => (Alert: s.Labels["alertname"], Agent: s.Labels.GetValueOrDefault("agent", ""), Tenant: s.Labels.GetValueOrDefault("tenant", "")))
            .ToList();
        var degradedAlerts = everFired.Where(a => a.Agent == DegradedAgent).Select(a => a.Alert).ToHashSet();
        var others = everFired.Where(a => a.Agent != DegradedAgent).Select(a => (a.Alert, a.Agent)).ToHashSet();
        Assert.True(others.SetEquals(expected),
            "alerts outside the degraded agent differ from the fleet's quirks:" +
            $"\n  unexpected: {string.Join(", ", others.Except(expected))}\n  missing: {string.Join(", ", expected.Except(others))}" +
            $"\n  degraded agent's: {string.Join(", ", degradedAlerts.Order(StringComparer.Ordinal))}" + Diagnostics());
        output.WriteLine($"{DegradedAgent} (degraded) fired: {string.Join(", ", degradedAlerts.Order(StringComparer.Ordinal))}");
        output.WriteLine($"quirks fired: {string.Join(", ", others.Order())}");
        output.WriteLine($"webhook deliveries: {string.Join("; ", webhook.Alerts.Select(a => $"{a.Receiver}:{a.Name}/{a.Agent}").Distinct())}");
        output.WriteLine($"a warning inhibited by the page: {inhibited}");
        Assert.Contains("PerfOtelAgentSuccessRateLow", degradedAlerts);
        Assert.All(everFired.Where(a => a.Agent != "*"), a => Assert.Equal(Tenant, a.Tenant));
        // Every webhook delivery is one Prometheus fired, on the receiver its severity routes to.
        Assert.Empty(webhook.Malformed);
        Assert.All(webhook.Alerts, a =>
        {
            Assert.Contains((a.Name, a.Agent), everFired.Select(f => (f.Alert, f.Agent)));
            Assert.Equal(a.Labels["severity"] == "critical" ? "pager" : "chat", a.Receiver);
        });
    }

    /// <summary>A warning of the degraded agent that Alertmanager reports as inhibited; null at the deadline.</summary>
    private static async Task<string?> WaitForInhibitedWarningAsync(AlertmanagerServer alertmanager, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            using var alerts = JsonDocument.Parse(await alertmanager.GetStringAsync("api/v2/alerts"));
            foreach (var alert in alerts.RootElement.EnumerateArray())
            {
                var labels = alert.GetProperty("labels");
                var status = alert.GetProperty("status");
                if (labels.TryGetProperty("agent", out var agent) && agent.GetString() == DegradedAgent
                    && labels.GetProperty("severity").GetString() == "warning"
                    && status.GetProperty("state").GetString() == "suppressed"
                    && status.GetProperty("inhibitedBy").GetArrayLength() > 0)
                {
                    return labels.GetProperty("alertname").GetString();
                }
            }
            await Task.Delay(500);
        }
        return null;
    }

    private static string Tail(string output)
    {
        var lines = output.Split('\n');
        return new StringBuilder().AppendJoin('\n', lines.Skip(Math.Max(0, lines.Length - 30))).ToString();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The collection <see cref="WholeStackTests"/> runs in: nothing else runs in parallel with it.</summary>
[CollectionDefinition(WholeStackTests.Name, DisableParallelization = true)]
public sealed class WholeStackCollection;
