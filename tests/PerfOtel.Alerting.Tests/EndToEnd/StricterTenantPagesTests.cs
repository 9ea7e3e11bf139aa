using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using PerfOtel.Testing;

namespace PerfOtel.Alerting.Tests.EndToEnd;

/// <summary>
/// One configuration reaches the pager (#18): the collector (its own process) is configured with
/// <c>Thresholds:Tenants:strict:MinSuccessRate=0.95</c> and receives the same invocations for two tenants (18 of 20
/// succeed: 90 %, above the 80 % default and below the stricter 95 %). A real Prometheus scrapes it with the shipped
/// rules, a real Alertmanager receives what fires: the strict tenant's agent pages, the default tenant's does not, as
/// Alertmanager's own API (<c>/api/v2/alerts</c>) shows. Only time is shortened (every <c>for:</c> becomes 15 s).
/// </summary>
public sealed class StricterTenantPagesTests : IDisposable
{
    private const string Agent = "triage";
    private static readonly TimeSpan PendingFor = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    private readonly string directory = Directory.CreateTempSubdirectory("perfotel-strict-tenant-").FullName;

    [Fact]
    public async Task Tenant_with_a_stricter_success_threshold_pages_and_the_default_tenant_with_the_same_data_does_not()
    {
        using var webhook = new WebhookReceiver();
        var rules = StackConfiguration.RulesWithShortFor(Directory.CreateDirectory(Path.Combine(directory, "rules")).FullName, PendingFor);
        var alertmanagerConfig = StackConfiguration.AlertmanagerWithWebhooks(directory, webhook);
        await using var collector = await CollectorProcess.StartAsync(Path.Combine(directory, "collector"),
            new Dictionary<string, string> { ["Thresholds:Tenants:strict:MinSuccessRate"] = "0.95" });

        using (var http = new HttpClient { BaseAddress = collector.BaseAddress })
        {
            var start = DateTimeOffset.UtcNow.AddMinutes(-1);
            foreach (var (tenant, first) in new[] { ((string?)"strict", 1), (null, 101) })
            {
                using var content = new StringContent(InvocationsJson(tenant, first, start), Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(new Uri("v1/traces", UriKind.Relative), content);
                Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            }
        }

        await using var alertmanager = await AlertmanagerServer.StartAsync(alertmanagerConfig);
        await using var prometheus = await PrometheusServer.StartAsync(
            new Dictionary<string, string[]> { ["perfotel-collector"] = [$"127.0.0.1:{collector.Port}"] },
            ruleFiles: rules,
            alertmanagerTarget: alertmanager.Target);

        // Both tenants' success ratio is recorded at 0.9 before anything is judged: the same data reached Prometheus.
        var ratios = await prometheus.WaitForAsync($"tenant_agent_window:perfotel_agent_success:ratio{{window=\"1h\",agent=\"{Agent}\"}}",
            series => series.Count == 2, Deadline);
        Assert.All(ratios, s => Assert.Equal(0.9, s.Value, 9));
        var thresholds = await prometheus.WaitForAsync($"tenant_agent:perfotel_agent_success_ratio:threshold_min{{agent=\"{Agent}\"}}",
            series => series.Count == 2, Deadline);
        Assert.Equal(0.95, thresholds.Single(s => s.Labels["tenant"] == "strict").Value, 9);
        Assert.Equal(0.80, thresholds.Single(s => s.Labels["tenant"] == "default").Value, 9);

        var until = DateTime.UtcNow + Deadline;
        List<JsonElement> alerts = [];
        while (DateTime.UtcNow < until)
        {
            alerts = SuccessRateAlerts(await alertmanager.GetStringAsync("api/v2/alerts"));
            if (alerts.Count > 0)
            {
                break;
            }
            await Task.Delay(1000);
        }
        var page = Assert.Single(alerts);
        var labels = page.GetProperty("labels");
        Assert.Equal("strict", labels.GetProperty("tenant").GetString());
        Assert.Equal(Agent, labels.GetProperty("agent").GetString());
        Assert.Equal("critical", labels.GetProperty("severity").GetString());
        Assert.Equal("active", page.GetProperty("status").GetProperty("state").GetString());
        Assert.Contains("95%", page.GetProperty("annotations").GetProperty("description").GetString(), StringComparison.Ordinal);

        // The default tenant had the same data for as long, and more than its `for:`: nothing pending or firing.
        await Task.Delay(PendingFor + TimeSpan.FromSeconds(5));
        Assert.Empty((await prometheus.QueryAsync("ALERTS{alertname=\"PerfOtelAgentSuccessRateLow\",tenant=\"default\"}")));
        Assert.Equal(["strict"], SuccessRateAlerts(await alertmanager.GetStringAsync("api/v2/alerts"))
            .Select(a => a.GetProperty("labels").GetProperty("tenant").GetString()));
    }

    private static List<JsonElement> SuccessRateAlerts(string body) =>
        JsonDocument.Parse(body).RootElement.EnumerateArray()
            .Where(a => a.GetProperty("labels").TryGetProperty("alertname", out var name) && name.GetString() == "PerfOtelAgentSuccessRateLow")
            .Select(a => a.Clone())
            .ToList();

    private static string Nanos(DateTimeOffset time) =>
        (time.ToUnixTimeMilliseconds() * 1_000_000L).ToString(CultureInfo.InvariantCulture);

    /// <summary>20 invocations of <see cref="Agent"/>, the last two failed; the tenant as the resource attribute (none: default).</summary>
    private static string InvocationsJson(string? tenant, int firstId, DateTimeOffset start)
    {
        var spans = Enumerable.Range(0, 20).Select(i => $$$"""
            {"traceId":"{{{(firstId + i).ToString("x32", CultureInfo.InvariantCulture)}}}","spanId":"{{{(firstId + i).ToString("x16", CultureInfo.InvariantCulture)}}}",
             "name":"invoke_agent {{{Agent}}}","kind":1,"startTimeUnixNano":"{{{Nanos(start.AddSeconds(i))}}}","endTimeUnixNano":"{{{Nanos(start.AddSeconds(i + 1))}}}",
             "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"invoke_agent"}},{"key":"gen_ai.agent.name","value":{"stringValue":"{{{Agent}}}"}},
               {"key":"perfotel.outcome","value":{"stringValue":"{{{(i < 18 ? "success" : "failure")}}}"}}]}
            """);
        var tenantAttribute = tenant is null ? "" : $$$""",{"key":"perfotel.tenant","value":{"stringValue":"{{{tenant}}}"}}""";
        return $$$"""
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"ops"}}{{{tenantAttribute}}}]},
             "scopeSpans":[{"scope":{"name":"e2e"},"spans":[{{{string.Join(',', spans)}}}]}]}]}
            """;
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
