using System.Net;
using System.Text;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.EndToEnd;

/// <summary>
/// The collector process selected onto PostgreSQL exactly as the README says (--Storage:Provider=postgres
/// --Storage:ConnectionString=...), against a real PostgreSQL 15: acknowledged spans survive a SIGKILL and are shared
/// by a second replica reading the same database.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class PostgresCollectorTests : IDisposable
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("perfotel-pg-e2e-").FullName;

    [Fact]
    public async Task CollectorOnPostgres_KeepsAcknowledgedSpansAcrossSigKill_AndReplicasShareThem()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var settings = new Dictionary<string, string>
        {
            ["Storage:Provider"] = "postgres",
            ["Storage:ConnectionString"] = postgres.ConnectionString,
        };
        await using var first = await CollectorProcess.StartAsync(Path.Combine(dataDirectory, "a"), settings);
        await using var second = await CollectorProcess.StartAsync(Path.Combine(dataDirectory, "b"), settings);

        var acknowledged = new HashSet<string>();
        using (var http = new HttpClient { BaseAddress = first.BaseAddress })
        {
            for (var i = 0; i < 20; i++)
            {
                var (json, ids) = OtlpJsonSpans.InvokeAgentBatch(100, agent: "pg-agent");
                using var content = new StringContent(json, Encoding.UTF8, "application/json");
                using var response = await http.PostAsync("v1/traces", content);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                acknowledged.UnionWith(ids);
            }
        }

        first.Process.KillHard();

        // The other replica reads the same database: everything the killed one acknowledged is there.
        using var reader = new HttpClient { BaseAddress = second.BaseAddress };
        var ndjson = await reader.GetStringAsync("api/v1/executions/export?since=2000-01-01T00:00:00Z");
        var stored = ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => ExportFormat.SpanId(System.Text.Json.JsonDocument.Parse(line).RootElement))
            .ToHashSet();
        Assert.Equal(2000, acknowledged.Count);
        Assert.Subset(stored, acknowledged);
        Assert.Equal(acknowledged.Count, stored.Count);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
