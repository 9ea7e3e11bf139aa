using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using PerfOtel.Testing;
using PerfOtel.Collector.Receiving.Mapping;

namespace PerfOtel.Collector.Tests.Hostile;

/// <summary>
/// A live collector process (SQLite in a temporary directory) with baseline data stored first; every hostile case of
/// the corpus is then sent to it. Each must be refused with a 4xx or sanitised as the README's table says, and after
/// each the collector still answers, still ingests, and still returns the baseline byte for byte.
/// </summary>
public sealed class HostileInputFixture : IAsyncLifetime
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("perfotel-hostile-").FullName;

    public CollectorProcess Collector { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public string BaselineExport { get; private set; } = "";

    public string BaselineAnalytics { get; private set; } = "";

    public string DatabasePath => Path.Combine(dataDirectory, "perfotel.db");

    private int probes;

    public async Task InitializeAsync()
    {
        Collector = await CollectorProcess.StartAsync(dataDirectory, new Dictionary<string, string>
        {
            // Allowlisted so that nested, huge and non-finite attribute values reach the stored JSON.
            ["Privacy:AttributeAllowlist:0"] = "hostile.*",
        });
        Http = new HttpClient { BaseAddress = Collector.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

        for (var i = 0; i < 3; i++)
        {
            using var response = await Http.PostAsync(new Uri("/v1/traces", UriKind.Relative),
                Protobuf(HostileCorpus.ValidTraces(1000 + i, tenant: "default")));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var feedback = await Http.PostAsync(new Uri("/api/v1/feedback", UriKind.Relative),
                   new StringContent("""{"taskId": "no-such-task", "success": true}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Accepted, feedback.StatusCode);
        }

        BaselineExport = await ExportAsync();
        BaselineAnalytics = await AnalyticsAsync();
        Assert.Equal(3, BaselineExport.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Collector.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(dataDirectory, recursive: true);
    }

    public Task<string> ExportAsync() => Http.GetStringAsync(new Uri("/api/v1/executions/export", UriKind.Relative));

    /// <summary>The default tenant's analytics, without what moves with the clock alone (window bounds).</summary>
    public async Task<string> AnalyticsAsync()
    {
        var text = await Http.GetStringAsync(new Uri("/api/v1/metrics/agents?tenant=default&window=24h", UriKind.Relative));
        var agents = JsonDocument.Parse(text).RootElement.GetProperty("agents");
        return string.Join("\n", agents.EnumerateArray().Select(a => string.Join(",",
            new[] { "agent", "invocations", "successRate", "errorRate", "latencyP95Seconds", "accuracy", "costPerInvocationUsd", "healthScore" }
                .Select(p => a.TryGetProperty(p, out var v) ? v.GetRawText() : "-"))));
    }

    /// <summary>A fresh valid request must still be acknowledged (in a tenant of its own, so the baseline stays put).</summary>
    public async Task AssertStillIngestsAsync()
    {
        var probe = Interlocked.Increment(ref probes);
        using var response = await Http.PostAsync(new Uri("/v1/traces", UriKind.Relative), Protobuf(HostileCorpus.ValidTraces(probe)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = ExportTraceServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Null(answer.PartialSuccess);
    }

    public SqliteConnection OpenDatabase()
    {
        var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        return connection;
    }

    private static ByteArrayContent Protobuf(IMessage message)
    {
        var content = new ByteArrayContent(message.ToByteArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-protobuf");
        return content;
    }
}

[CollectionDefinition(Name)]
public sealed class HostileInputCollection : ICollectionFixture<HostileInputFixture>
{
    public const string Name = "hostile input";
}

[Collection(HostileInputCollection.Name)]
public sealed class HostileInputTests(HostileInputFixture fixture)
{
    public static TheoryData<string> Cases() => [.. HostileCorpus.All.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Hostile_request_is_refused_or_sanitised_and_the_collector_keeps_serving(string name)
    {
        var hostile = HostileCorpus.All.Single(c => c.Name == name);

        using (var response = await fixture.Http.PostAsync(new Uri(hostile.Path, UriKind.Relative), hostile.Body()))
        {
            await AssertAnswerAsync(hostile, response);
        }

        Assert.Equal("ok", await fixture.Http.GetStringAsync(new Uri("/healthz", UriKind.Relative)));
        await fixture.AssertStillIngestsAsync();
        Assert.Equal(fixture.BaselineExport, await fixture.ExportAsync());
        Assert.Equal(fixture.BaselineAnalytics, await fixture.AnalyticsAsync());
        if (hostile.Trace is { } trace && hostile.Expect == Expect.Accepted)
        {
            AssertStoredSanely(HostileCorpus.TraceIdHex(trace));
        }
    }

    [Fact]
    public async Task Hostile_names_are_exported_escaped_and_metrics_stay_parseable_by_promtool()
    {
        foreach (var hostile in HostileCorpus.All.Where(c => c.Name.StartsWith("traces/injection", StringComparison.Ordinal)))
        {
            using var response = await fixture.Http.PostAsync(new Uri(hostile.Path, UriKind.Relative), hostile.Body());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var exposition = await WaitForAsync(async () =>
        {
            var text = await fixture.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            return text.Contains("DROP TABLE", StringComparison.Ordinal) ? text : null;
        });

        // The quote and backslash of a hostile agent name appear only as the escapes of the text format; its newline
        // was replaced at ingest.
        Assert.Contains("agent=\"a\\\"b\\\\\\\"} evil_metric{x=\\\"1\\\"} 1\uFFFD# HELP\"", exposition, StringComparison.Ordinal);
        Assert.DoesNotContain("\nevil_metric", exposition, StringComparison.Ordinal);
        Assert.DoesNotContain("\u0000", exposition, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('n', HostileCorpus.MaxNameLength + 1), exposition, StringComparison.Ordinal);

        // Every view over the tenants that now hold the hostile names (the names were tenants too) still answers.
        var tenants = HostileCorpus.InjectionNames.Select(n => Uri.EscapeDataString(StoredText.Clean(n))).Append(HostileCorpus.Tenant);
        foreach (var view in tenants.SelectMany(tenant => new[]
                 {
                     $"/api/v1/metrics/agents?tenant={tenant}&window=1h", $"/api/v1/metrics/system?tenant={tenant}&window=1h",
                     $"/api/v1/alerts?tenant={tenant}&window=1h", $"/api/v1/report?tenant={tenant}&window=1h",
                     $"/api/v1/report?tenant={tenant}&window=1h&format=markdown", $"/api/v1/costs?tenant={tenant}",
                     $"/api/v1/models?tenant={tenant}",
                 }))
        {
            using var answer = await fixture.Http.GetAsync(new Uri(view, UriKind.Relative));
            var text = await answer.Content.ReadAsStringAsync();
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{view}: {(int)answer.StatusCode} {text}");
            // The injection tenants got data above; the corpus tenant only when the corpus cases ran before this test.
            if (view.StartsWith("/api/v1/metrics/agents", StringComparison.Ordinal)
                && !view.Contains("tenant=" + HostileCorpus.Tenant + "&", StringComparison.Ordinal))
            {
                Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("agents").GetArrayLength() > 0, $"{view}: no agents in {text}");
            }
        }

        // The check can fail: an unescaped newline in a label value is a parse error to promtool.
        var (brokenExit, brokenOutput) = await Promtool.CheckMetricsAsync("agent_up{agent=\"a\nb\"} 1\n");
        Assert.True(brokenExit == 1 && brokenOutput.Contains("error while linting", StringComparison.Ordinal), brokenOutput);

        var (exitCode, output) = await Promtool.CheckMetricsAsync(exposition);
        // promtool exits 1 when the text does not parse and 3 for lint findings (metric naming advice, e.g. a
        // "_sum" suffix on a counter), which say nothing about escaping; parsing is what hostile names could break.
        Assert.True(exitCode is 0 or 3 && !output.Contains("error while linting", StringComparison.Ordinal),
            $"promtool check metrics exit {exitCode}:\n{output}");
    }

    private static async Task AssertAnswerAsync(HostileCase hostile, HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsByteArrayAsync();
        var describe = $"{hostile.Name}: {(int)response.StatusCode} {Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 500)))}";
        var expected = hostile.Expect switch
        {
            Expect.BadRequest => HttpStatusCode.BadRequest,
            Expect.TooLarge => HttpStatusCode.RequestEntityTooLarge,
            Expect.UnsupportedMediaType => HttpStatusCode.UnsupportedMediaType,
            _ when hostile.Path.StartsWith("/api/", StringComparison.Ordinal) => HttpStatusCode.Accepted,
            _ => HttpStatusCode.OK,
        };
        Assert.True(expected == response.StatusCode, describe);

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if ((int)response.StatusCode >= 400 && hostile.Path.StartsWith("/v1/", StringComparison.Ordinal) && mediaType != "text/plain")
        {
            var status = mediaType == "application/json"
                ? Google.Rpc.Status.Parser.ParseJson(Encoding.UTF8.GetString(body))
                : Google.Rpc.Status.Parser.ParseFrom(body);
            Assert.False(string.IsNullOrEmpty(status.Message), describe);
        }
        else if ((int)response.StatusCode >= 400 && hostile.Path.StartsWith("/api/", StringComparison.Ordinal))
        {
            Assert.Equal("application/json", mediaType);
            Assert.True(JsonDocument.Parse(body).RootElement.TryGetProperty("error", out _), describe);
        }

        if (hostile.Path.StartsWith("/v1/", StringComparison.Ordinal) && response.StatusCode == HttpStatusCode.OK)
        {
            var (rejected, message) = PartialSuccess(hostile.Path, mediaType == "application/json" ? JsonToProtobuf(hostile.Path, body) : body);
            if (hostile.Expect == Expect.PartiallyRejected)
            {
                Assert.True(rejected > 0 && message.Length > 0, describe);
            }
            else
            {
                Assert.True(rejected == 0, describe);
            }
        }
    }

    private static byte[] JsonToProtobuf(string path, byte[] json)
    {
        var text = Encoding.UTF8.GetString(json);
        return path switch
        {
            "/v1/traces" => ExportTraceServiceResponse.Parser.ParseJson(text).ToByteArray(),
            "/v1/logs" => ExportLogsServiceResponse.Parser.ParseJson(text).ToByteArray(),
            _ => ExportMetricsServiceResponse.Parser.ParseJson(text).ToByteArray(),
        };
    }

    private static (long Rejected, string Message) PartialSuccess(string path, byte[] body) => path switch
    {
        "/v1/traces" => ExportTraceServiceResponse.Parser.ParseFrom(body).PartialSuccess is { } p ? (p.RejectedSpans, p.ErrorMessage) : (0, ""),
        "/v1/logs" => ExportLogsServiceResponse.Parser.ParseFrom(body).PartialSuccess is { } p ? (p.RejectedLogRecords, p.ErrorMessage) : (0, ""),
        _ => ExportMetricsServiceResponse.Parser.ParseFrom(body).PartialSuccess is { } p ? (p.RejectedDataPoints, p.ErrorMessage) : (0, ""),
    };

    /// <summary>What an accepted hostile trace left in the store obeys the documented sanitisation rules.</summary>
    private void AssertStoredSanely(string traceId)
    {
        using var connection = fixture.OpenDatabase();
        foreach (var (table, columns) in new[]
                 {
                     ("invocations", "tenant, agent_name, agent_type, task_id, task_type, experiment, variant, error_type, attributes_json, confidence, quality, cost_usd, input_tokens, output_tokens, cache_read_tokens, duration_seconds"),
                     ("provider_calls", "tenant, agent_name, provider, request_model, fallback_from, cost_usd, input_tokens, output_tokens, duration_seconds"),
                     ("tool_calls", "tenant, agent_name, tool_name, duration_seconds"),
                     ("evaluations", "tenant, agent_name, name, label, score"),
                 })
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {columns} FROM {table} WHERE trace_id = $trace";
            command.Parameters.AddWithValue("$trace", traceId);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    if (reader.IsDBNull(i))
                    {
                        continue;
                    }

                    var column = $"{table}.{reader.GetName(i)}";
                    switch (reader.GetValue(i))
                    {
                        case string text when reader.GetName(i) == "attributes_json":
                            Assert.True(text.Length <= 64 * 1024, $"{column} holds {text.Length} characters");
                            using (JsonDocument.Parse(text))
                            {
                            }

                            break;
                        case string text:
                            Assert.True(text.Length <= HostileCorpus.MaxNameLength, $"{column} holds {text.Length} characters");
                            Assert.False(text.Any(char.IsControl), $"{column} holds a control character: {JsonSerializer.Serialize(text)}");
                            Assert.False(text.Any(char.IsSurrogate) && !IsWellFormed(text), $"{column} holds a lone surrogate");
                            break;
                        case double number:
                            Assert.True(double.IsFinite(number) && number >= 0, $"{column} = {number}");
                            if (reader.GetName(i) is "confidence" or "quality" or "score")
                            {
                                Assert.InRange(number, 0, 1);
                            }

                            break;
                        case long count:
                            Assert.True(count is >= 0 and <= 1_000_000_000_000, $"{column} = {count}");
                            break;
                    }
                }
            }
        }
    }

    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<string> WaitForAsync(Func<Task<string?>> probe)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            await Task.Delay(100);
        }

        Assert.Fail("the hostile names never reached /metrics");
        return "";
    }
}
