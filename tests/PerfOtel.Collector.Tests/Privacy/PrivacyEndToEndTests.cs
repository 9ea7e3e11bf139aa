using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.Privacy;

/// <summary>
/// Prompts, completions and user ids sent by the real OpenTelemetry OTLP exporter, through the receiver into the real
/// SQLite store; then the database file's bytes and the export are searched for what must not be there.
/// </summary>
public sealed class PrivacyEndToEndTests : IDisposable
{
    private const string KeyOne = "first-test-key-0123456789";
    private const string KeyTwo = "second-test-key-9876543210";
    private const string UserEmail = "alice.doe@example.com";
    private const string UserId = "alice-4242";

    private readonly string dataDirectory = Directory.CreateTempSubdirectory("perfotel-privacy-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task By_default_no_content_and_no_clear_user_id_reach_the_store_or_the_export()
    {
        string export;
        await using (var collector = new PrivacyCollectorFactory(dataDirectory, AllowEverythingNamed(KeyOne)))
        {
            using var client = collector.CreateDefaultClient(new SynchronousSendHandler());
            EmitAgentRuns(new Uri(client.BaseAddress!, "v1/traces"), () => client, ("default", "TENANT-DEFAULT"));
            await PostContentLogAsync(client, "SECRET-LOG-BODY");
            await PostFeedbackAsync(client, "task-TENANT-DEFAULT");
            export = await client.GetStringAsync(new Uri("/api/v1/executions/export", UriKind.Relative));
        }

        var line = JsonDocument.Parse(export.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single()).RootElement;
        var attributes = line.GetProperty("attributes");
        Assert.Equal(Hmac(KeyOne, UserEmail), attributes.GetProperty("enduser.id").GetString());
        Assert.Equal(Hmac(KeyOne, UserId), attributes.GetProperty("user.id").GetString());
        Assert.Equal("eu-west", attributes.GetProperty("app.region").GetString());
        Assert.Equal("triage", attributes.GetProperty(GenAiAttributes.AgentName).GetString());
        foreach (var content in new[] { GenAiAttributes.InputMessages, GenAiAttributes.OutputMessages, GenAiAttributes.SystemInstructions,
                     "gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "gen_ai.prompt", "gen_ai.completion",
                     "gen_ai.prompt.0.content", "gen_ai.completion.0.content" })
        {
            Assert.False(attributes.TryGetProperty(content, out _), $"{content} was exported");
        }

        var feedback = line.GetProperty("feedback");
        Assert.Equal(0.5, feedback.GetProperty("accuracy").GetDouble(), 9);
        Assert.False(feedback.TryGetProperty("predicted", out _));
        Assert.False(feedback.TryGetProperty("actual", out _));

        AssertNowhere(export, "SECRET", "alice");
        AssertNotInDatabaseFiles("SECRET", "alice", "Alice");
    }

    [Fact]
    public async Task Content_capture_for_one_tenant_keeps_that_tenants_content_and_no_one_elses()
    {
        var settings = AllowEverythingNamed(KeyOne);
        settings["Privacy:Tenants:acme:CaptureContent"] = "true";
        string export;
        await using (var collector = new PrivacyCollectorFactory(dataDirectory, settings))
        {
            using var client = collector.CreateDefaultClient(new SynchronousSendHandler());
            EmitAgentRuns(new Uri(client.BaseAddress!, "v1/traces"), () => client, ("acme", "TENANT-ACME"), ("default", "TENANT-DEFAULT"));
            export = await client.GetStringAsync(new Uri("/api/v1/executions/export", UriKind.Relative));
        }

        AssertNowhere(export, "SECRET", "alice");
        var stored = ReadStoredAttributes();
        Assert.Equal(["acme", "default"], stored.Keys.Order());
        var acme = JsonDocument.Parse(stored["acme"]).RootElement;
        Assert.Contains("SECRET-PROMPT-TENANT-ACME", acme.GetProperty(GenAiAttributes.InputMessages).GetString(), StringComparison.Ordinal);
        Assert.Equal("SECRET-TOOL-ARGS-TENANT-ACME", acme.GetProperty("gen_ai.tool.call.arguments").GetString());
        Assert.Equal("SECRET-LEGACY-PROMPT-TENANT-ACME", acme.GetProperty("gen_ai.prompt.0.content").GetString());
        // Capture is about content: user ids of a capturing tenant are still only hashes.
        Assert.Equal(Hmac(KeyOne, UserEmail), acme.GetProperty("enduser.id").GetString());
        Assert.DoesNotContain("SECRET", stored["default"], StringComparison.Ordinal);
        AssertNotInDatabaseFiles("SECRET-PROMPT-TENANT-DEFAULT", "SECRET-ANSWER-TENANT-DEFAULT", "alice");
    }

    [Fact]
    public async Task Feedback_payloads_are_kept_only_where_content_is_captured()
    {
        var settings = AllowEverythingNamed(KeyOne);
        settings["Privacy:CaptureContent"] = "true";
        await using var collector = new PrivacyCollectorFactory(dataDirectory, settings);
        using var client = collector.CreateDefaultClient(new SynchronousSendHandler());
        EmitAgentRuns(new Uri(client.BaseAddress!, "v1/traces"), () => client, ("default", "TENANT-DEFAULT"));
        await PostFeedbackAsync(client, "task-TENANT-DEFAULT");

        var export = await client.GetStringAsync(new Uri("/api/v1/executions/export", UriKind.Relative));

        var line = JsonDocument.Parse(export.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single()).RootElement;
        Assert.Equal("SECRET-PREDICTED refund approved", line.GetProperty("feedback").GetProperty("predicted").GetString());
        Assert.Contains("SECRET-PROMPT-TENANT-DEFAULT", line.GetProperty("attributes").GetProperty(GenAiAttributes.InputMessages).GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task User_id_hashes_are_stable_within_a_key_and_differ_between_keys()
    {
        var first = await ExportedUserHashesAsync(KeyOne);
        var again = await ExportedUserHashesAsync(KeyOne);
        var other = await ExportedUserHashesAsync(KeyTwo);

        Assert.Equal(2, first.Count);
        Assert.Single(first.Distinct());
        Assert.Equal(first, again);
        Assert.Single(other.Distinct());
        Assert.NotEqual(first[0], other[0]);
        Assert.Matches("^hmac-sha256:[0-9a-f]{64}$", first[0]);
        Assert.Equal(Hmac(KeyTwo, UserEmail), other[0]);
    }

    [Fact]
    public async Task An_allowlisted_user_id_without_a_hash_key_stops_the_start_naming_the_setting()
    {
        await using var collector = new PrivacyCollectorFactory(dataDirectory, new() { ["Privacy:AttributeAllowlist:0"] = "enduser.*" });

        var error = Assert.Throws<OptionsValidationException>(() => collector.CreateClient());

        Assert.Contains("Privacy:UserIdHashKey", error.Message, StringComparison.Ordinal);
        Assert.Contains("enduser.id", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Privacy:UserIdHashKey", "short")]
    [InlineData("Privacy:AttributeAllowlist:0", "app.*.id")]
    public async Task Invalid_privacy_settings_stop_the_start_naming_the_setting(string setting, string value)
    {
        await using var collector = new PrivacyCollectorFactory(dataDirectory, new() { [setting] = value });

        var error = Assert.Throws<OptionsValidationException>(() => collector.CreateClient());

        Assert.Contains(setting.Split(':')[0] + ":" + setting.Split(':')[1], error.Message, StringComparison.Ordinal);
    }

    private async Task<List<string>> ExportedUserHashesAsync(string key)
    {
        var directory = Directory.CreateDirectory(Path.Combine(dataDirectory, Guid.NewGuid().ToString("N"))).FullName;
        await using var collector = new PrivacyCollectorFactory(directory, AllowEverythingNamed(key));
        using var client = collector.CreateDefaultClient(new SynchronousSendHandler());
        EmitAgentRuns(new Uri(client.BaseAddress!, "v1/traces"), () => client, ("default", "RUN-1"), ("default", "RUN-2"));
        var export = await client.GetStringAsync(new Uri("/api/v1/executions/export", UriKind.Relative));
        return [.. export.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("attributes").GetProperty("enduser.id").GetString()!)];
    }

    /// <summary>An operator who allowlisted every name the test sends, content and user ids included.</summary>
    private static Dictionary<string, string?> AllowEverythingNamed(string key) => new()
    {
        ["Privacy:UserIdHashKey"] = key,
        ["Privacy:AttributeAllowlist:0"] = "gen_ai.*",
        ["Privacy:AttributeAllowlist:1"] = "enduser.*",
        ["Privacy:AttributeAllowlist:2"] = "user.*",
        ["Privacy:AttributeAllowlist:3"] = "app.region",
        // The former setting is still read.
        ["Otlp:AttributeAllowlist:0"] = "gen_ai.completion.*",
    };

    private static string Hmac(string key, string value) =>
        "hmac-sha256:" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value)));

    private static void AssertNowhere(string text, params string[] forbidden)
    {
        foreach (var word in forbidden)
        {
            Assert.False(text.Contains(word, StringComparison.Ordinal), $"'{word}' found in:\n{text}");
        }
    }

    private void AssertNotInDatabaseFiles(params string[] forbidden)
    {
        SqliteConnection.ClearAllPools();
        var files = Directory.GetFiles(dataDirectory, "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => Path.GetFileName(f) == "perfotel.db");
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            foreach (var word in forbidden)
            {
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(word)) < 0, $"'{word}' found in {file}");
            }
        }
    }

    private Dictionary<string, string> ReadStoredAttributes()
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "perfotel.db")};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT tenant, attributes_json FROM invocations";
        using var reader = command.ExecuteReader();
        var result = new Dictionary<string, string>();
        while (reader.Read())
        {
            result.Add(reader.GetString(0), reader.GetString(1));
        }

        return result;
    }

    /// <summary>One invoke_agent span per (tenant, marker) with every kind of content and user id on it and its children.</summary>
    private static void EmitAgentRuns(Uri endpoint, Func<HttpClient> httpClientFactory, params (string Tenant, string Marker)[] runs)
    {
        var sourceName = "PerfOtel.Tests.Privacy." + Guid.NewGuid();
        using var source = new ActivitySource(sourceName);
        using var provider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("support-bot"))
            .AddSource(sourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddOtlpExporter(exporter =>
            {
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Endpoint = endpoint;
                exporter.HttpClientFactory = httpClientFactory;
            })
            .Build();

        foreach (var (tenant, marker) in runs)
        {
            using var agent = source.StartActivity("invoke_agent triage", ActivityKind.Internal)!;
            agent.SetTag(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent);
            agent.SetTag(GenAiAttributes.AgentName, "triage");
            agent.SetTag(PerfOtelAttributes.Tenant, tenant);
            agent.SetTag(PerfOtelAttributes.TaskId, "task-" + marker);
            agent.SetTag(GenAiAttributes.InputMessages, $$"""[{"role":"user","parts":[{"type":"text","content":"SECRET-PROMPT-{{marker}} my card is 4111"}]}]""");
            agent.SetTag(GenAiAttributes.OutputMessages, $$"""[{"role":"assistant","parts":[{"type":"text","content":"SECRET-ANSWER-{{marker}}"}]}]""");
            agent.SetTag(GenAiAttributes.SystemInstructions, "SECRET-SYSTEM-" + marker);
            agent.SetTag("gen_ai.tool.call.arguments", "SECRET-TOOL-ARGS-" + marker);
            agent.SetTag("gen_ai.tool.call.result", "SECRET-TOOL-RESULT-" + marker);
            agent.SetTag("gen_ai.prompt", "SECRET-OLD-PROMPT-" + marker);
            agent.SetTag("gen_ai.completion", "SECRET-OLD-COMPLETION-" + marker);
            agent.SetTag("gen_ai.prompt.0.content", "SECRET-LEGACY-PROMPT-" + marker);
            agent.SetTag("gen_ai.completion.0.content", "SECRET-LEGACY-COMPLETION-" + marker);
            agent.SetTag("enduser.id", UserEmail);
            agent.SetTag("user.id", UserId);
            agent.SetTag("user.full_name", "Alice Doe");
            agent.SetTag("app.region", "eu-west");
            using (var chat = source.StartActivity("chat gpt-4o-mini", ActivityKind.Client)!)
            {
                chat.SetTag(GenAiAttributes.OperationName, GenAiOperations.Chat);
                chat.SetTag(GenAiAttributes.ProviderName, "openai");
                chat.SetTag(GenAiAttributes.RequestModel, "gpt-4o-mini");
                chat.SetTag(GenAiAttributes.InputMessages, "SECRET-CHAT-PROMPT-" + marker);
                chat.SetTag("gen_ai.openai.request.user", UserEmail);
            }

            using (var tool = source.StartActivity("execute_tool lookup_order", ActivityKind.Internal)!)
            {
                tool.SetTag(GenAiAttributes.OperationName, GenAiOperations.ExecuteTool);
                tool.SetTag(GenAiAttributes.ToolName, "lookup_order");
                tool.SetTag("gen_ai.tool.call.arguments", "SECRET-CHILD-TOOL-ARGS-" + marker);
            }

            agent.AddEvent(new ActivityEvent(GenAiEvents.EvaluationResult, tags: new ActivityTagsCollection
            {
                [GenAiAttributes.EvaluationName] = "relevance",
                [GenAiAttributes.EvaluationScoreValue] = 0.9,
                [GenAiAttributes.EvaluationExplanation] = "SECRET-EXPLANATION-" + marker,
            }));
        }

        Assert.True(provider.ForceFlush(30_000), "the exporter could not flush");
    }

    private static async Task PostContentLogAsync(HttpClient client, string body)
    {
        var record = new LogRecord
        {
            TimeUnixNano = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000,
            EventName = "gen_ai.user.message",
            Body = new AnyValue { StringValue = body },
        };
        record.Attributes.Add(new KeyValue { Key = "enduser.id", Value = new AnyValue { StringValue = UserEmail } });
        var scope = new ScopeLogs();
        scope.LogRecords.Add(record);
        var resource = new ResourceLogs();
        resource.ScopeLogs.Add(scope);
        var request = new ExportLogsServiceRequest();
        request.ResourceLogs.Add(resource);
        using var response = await client.PostAsync(new Uri("/v1/logs", UriKind.Relative), OtlpBuilders.Protobuf(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task PostFeedbackAsync(HttpClient client, string taskId)
    {
        using var content = new StringContent(
            $$"""{"taskId": "{{taskId}}", "predicted": "SECRET-PREDICTED refund approved", "actual": "refund denied"}""",
            Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(new Uri("/api/v1/feedback", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private sealed class PrivacyCollectorFactory(string dataDirectory, Dictionary<string, string?> settings) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Storage:DataDirectory", dataDirectory);
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        }
    }
}
