using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Collector.Tests.Analytics;
using PerfOtel.Collector.Tests.EndToEnd;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Thresholds;

/// <summary>
/// "What paged last night" after a restart: the whole collector (Program) opens an alert from OTLP data, resolves it
/// when the data leaves the window, is restarted on the same store, and still answers the resolved alert (same id,
/// start and resolution) and the one still open (same id and start), on SQLite and on PostgreSQL.
/// </summary>
[Collection(RestartCollection.Name)]
public sealed class AlertHistoryRestartTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 20, 22, 0, 0, TimeSpan.Zero);
    private readonly string directory = Directory.CreateTempSubdirectory("perfotel-alert-history-").FullName;

    [Fact]
    public Task Sqlite_keeps_the_alert_history_across_a_restart() => HistorySurvivesRestartAsync(new Dictionary<string, string?>
    {
        ["Storage:DataDirectory"] = Path.Combine(directory, "sqlite"),
    });

    [Fact]
    public async Task Postgres_keeps_the_alert_history_across_a_restart()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await HistorySurvivesRestartAsync(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "postgres",
            ["Storage:ConnectionString"] = postgres.ConnectionString,
            ["Storage:DataDirectory"] = Path.Combine(directory, "pg"),
        });
    }

    private static async Task HistorySurvivesRestartAsync(Dictionary<string, string?> storage)
    {
        var clock = new ManualTimeProvider(Start);
        string hourId, dayId;
        await using (var first = new Collector(storage, clock))
        {
            using var client = first.CreateClient();
            // 10 failures of "triage" at 21:50: success rate 0 breaches the 80 % minimum (critical) in both windows.
            using (var content = new StringContent(FailuresJson(Start.AddMinutes(-10), 10), Encoding.UTF8, "application/json"))
            using (var response = await client.PostAsync("v1/traces", content))
            {
                Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            }

            var hour = Assert.Single(await OpenAsync(client, "1h"));
            Assert.Equal("critical", hour.GetProperty("level").GetString());
            Assert.Equal(Start, hour.GetProperty("activeSince").GetDateTimeOffset());
            hourId = hour.GetProperty("id").GetString()!;
            dayId = Assert.Single(await OpenAsync(client, "24h")).GetProperty("id").GetString()!;
            Assert.NotEqual(hourId, dayId);

            // 23:30: the failures have left the 1h window (its alert resolves), not the 24h one (its alert stays open).
            clock.Advance(TimeSpan.FromMinutes(90));
            Assert.Empty(await OpenAsync(client, "1h"));
            Assert.Equal(dayId, Assert.Single(await OpenAsync(client, "24h")).GetProperty("id").GetString());
        }

        await using var restarted = new Collector(storage, clock);
        using var again = restarted.CreateClient();
        clock.Advance(TimeSpan.FromMinutes(5));
        var answer = await GetAsync(again, $"api/v1/alerts?window=24h&agent=triage&metric=success_rate&since={Iso(Start)}");
        var open = Assert.Single(answer.GetProperty("alerts").EnumerateArray());
        Assert.Equal(dayId, open.GetProperty("id").GetString());
        Assert.Equal(Start, open.GetProperty("activeSince").GetDateTimeOffset());
        var resolved = Assert.Single(answer.GetProperty("resolved").EnumerateArray());
        Assert.Equal(hourId, resolved.GetProperty("id").GetString());
        Assert.Equal("1h", resolved.GetProperty("window").GetString());
        Assert.Equal(Start, resolved.GetProperty("activeSince").GetDateTimeOffset());
        Assert.Equal(Start.AddMinutes(90), resolved.GetProperty("resolvedAt").GetDateTimeOffset());
        Assert.Equal(0.0, resolved.GetProperty("value").GetDouble());
        Assert.True(answer.GetProperty("historyKept").GetBoolean());

        // A `since` after the resolution leaves it out; a level filter that does not match too.
        Assert.Empty((await GetAsync(again, $"api/v1/alerts?since={Iso(Start.AddHours(2))}")).GetProperty("resolved").EnumerateArray());
        Assert.Empty((await GetAsync(again, $"api/v1/alerts?level=warning&metric=success_rate&since={Iso(Start)}")).GetProperty("resolved").EnumerateArray());
    }

    private static async Task<List<JsonElement>> OpenAsync(HttpClient client, string window) =>
        (await GetAsync(client, $"api/v1/alerts?window={window}&agent=triage&metric=success_rate")).GetProperty("alerts").EnumerateArray().ToList();

    private static async Task<JsonElement> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("O", CultureInfo.InvariantCulture));

    private static string Nanos(DateTimeOffset time) =>
        (time.ToUnixTimeMilliseconds() * 1_000_000L).ToString(CultureInfo.InvariantCulture);

    private static string FailuresJson(DateTimeOffset start, int count)
    {
        var spans = Enumerable.Range(0, count).Select(i => $$$"""
            {"traceId":"{{{(i + 1).ToString("x32", CultureInfo.InvariantCulture)}}}","spanId":"{{{(i + 1).ToString("x16", CultureInfo.InvariantCulture)}}}",
             "name":"invoke_agent triage","kind":1,"startTimeUnixNano":"{{{Nanos(start)}}}","endTimeUnixNano":"{{{Nanos(start.AddSeconds(1))}}}",
             "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"invoke_agent"}},{"key":"gen_ai.agent.name","value":{"stringValue":"triage"}},
               {"key":"perfotel.outcome","value":{"stringValue":"failure"}}]}
            """);
        return $$$"""
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"ops"}}]},
             "scopeSpans":[{"scope":{"name":"test"},"spans":[{{{string.Join(',', spans)}}}]}]}]}
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

    /// <summary>The collector as Program builds it, on the given store, on a clock the test moves.</summary>
    private sealed class Collector(Dictionary<string, string?> settings, ManualTimeProvider clock) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
            builder.UseSetting("Storage:RetentionDays", "0");
            builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(clock));
        }
    }
}
