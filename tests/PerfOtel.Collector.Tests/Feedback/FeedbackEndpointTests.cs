using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Tests.Ingest;
using PerfOtel.Collector.Tests.Storage;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Receiving.Feedback;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Feedback;

/// <summary><c>POST /api/v1/feedback</c> through the real host on the embedded store.</summary>
public sealed class FeedbackEndpointTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "perfotel-feedback-" + Guid.NewGuid().ToString("N"));
    private readonly RecordingObserver _observer = new();
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(
                new Dictionary<string, string?>
                {
                    ["Storage:DataDirectory"] = _directory,
                    ["Storage:RetentionDays"] = "0",
                }));
            builder.ConfigureServices(services => services.AddExtraDerivations(_observer));
        });
        _client = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData("""[1, 2]""", "body")]
    [InlineData("""{"success": true}""", "taskId")]
    [InlineData("""{"taskId": "", "success": true}""", "taskId")]
    [InlineData("""{"taskId": 7, "success": true}""", "taskId")]
    [InlineData("""{"traceId": "0af7651916cd43dd8448eb211c80319c", "success": true}""", "spanId")]
    [InlineData("""{"spanId": "b7ad6b7169203331", "success": true}""", "traceId")]
    [InlineData("""{"traceId": "0af7651916cd43dd8448eb211c80319", "spanId": "b7ad6b7169203331", "success": true}""", "traceId")]
    [InlineData("""{"traceId": "00000000000000000000000000000000", "spanId": "b7ad6b7169203331", "success": true}""", "traceId")]
    [InlineData("""{"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b71692033zz", "success": true}""", "spanId")]
    [InlineData("""{"taskId": "t", "success": "yes"}""", "success")]
    [InlineData("""{"taskId": "t", "score": 1.5}""", "score")]
    [InlineData("""{"taskId": "t", "score": "0.5"}""", "score")]
    [InlineData("""{"taskId": "t", "predicted": 3}""", "actual")]
    [InlineData("""{"taskId": "t", "actual": 3}""", "predicted")]
    [InlineData("""{"taskId": "t"}""", "success")]
    [InlineData("""{"taskId": "t", "success": true, "feedbackId": 12}""", "feedbackId")]
    public async Task AnInvalidBodyGets400NamingTheField(string body, string field)
    {
        using var response = await PostAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(field, json.RootElement.GetProperty("field").GetString());
        Assert.Contains(field, json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedJsonGets400AndStoresNothing()
    {
        using var response = await PostAsync("""{"taskId": "t", "success": tru""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("body", json.RootElement.GetProperty("field").GetString());
        var pending = TestRecords.Batch(TestRecords.Invocation(taskId: "t"));
        await Store.WriteAsync(pending, CancellationToken.None);
        Assert.Empty(pending.JoinedFeedback);
    }

    [Fact]
    public async Task ABodyThatIsNotJsonGets415()
    {
        using var response = await _client.PostAsync(FeedbackEndpoint.Route,
            new StringContent("taskId=t&success=true", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task FeedbackForAStoredInvocationIsJoinedScoredAndReportedToObservers()
    {
        var invocation = TestRecords.Invocation();
        await Store.WriteAsync(TestRecords.Batch(invocation), CancellationToken.None);

        using var response = await PostAsync($$"""
            {"traceId": "{{invocation.TraceId.ToUpperInvariant()}}", "spanId": "{{invocation.SpanId}}",
             "success": false, "score": 0.25, "feedbackId": "fb-1",
             "predicted": {"city": "Paris", "amount": 100}, "actual": {"city": "paris", "amount": 80},
             "comment": "unknown fields are ignored"}
            """);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(accepted.GetProperty("joined").GetBoolean());
        Assert.Equal("fb-1", accepted.GetProperty("feedbackId").GetString());
        var join = Assert.Single(_observer.Joins);
        Assert.Equal(invocation, join.Invocation);
        Assert.False(join.Feedback.Success);
        Assert.Equal(0.25, join.Feedback.Score);
        // keys all shared (1.0); values: "paris" in "Paris" (1.0) and 1 - 20/80 (0.75): mean 0.875; overall 0.9375.
        Assert.Equal(0.9375, join.Feedback.Accuracy!.Value, 10);
        var stored = Assert.Single(await ReadAll());
        Assert.Equal("fb-1", stored.Feedback?.FeedbackId);

        // The same feedback id again is accepted and changes nothing, and observers do not count it twice.
        using var again = await PostAsync($$"""{"traceId": "{{invocation.TraceId}}", "spanId": "{{invocation.SpanId}}", "success": true, "feedbackId": "fb-1"}""");
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Single(_observer.Joins);
        Assert.False((await ReadAll()).Single().Feedback!.Success);
    }

    [Fact]
    public async Task FeedbackBeforeItsInvocationIsAcceptedPendingAndJoinedWhenItArrives()
    {
        using var response = await PostAsync("""{"taskId": "task-later", "success": true}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(accepted.GetProperty("joined").GetBoolean());
        Assert.Empty(_observer.Joins);

        var batch = TestRecords.Batch(TestRecords.Invocation(taskId: "task-later"));
        await Store.WriteAsync(batch, CancellationToken.None);
        Assert.True(Assert.Single(batch.JoinedFeedback).Feedback.Success);
        Assert.Equal("default", batch.JoinedFeedback[0].Feedback.Tenant);
    }

    private IExecutionStore Store => _factory.Services.GetRequiredService<IExecutionStore>();

    private Task<HttpResponseMessage> PostAsync(string json) =>
        _client.PostAsync(FeedbackEndpoint.Route, new StringContent(json, Encoding.UTF8, "application/json"));

    private async Task<List<StoredInvocation>> ReadAll()
    {
        var list = new List<StoredInvocation>();
        await foreach (var stored in Store.ReadInvocationsAsync(new InvocationQuery(), CancellationToken.None))
        {
            list.Add(stored);
        }

        return list;
    }

    private sealed class RecordingObserver : IDerivation
    {
        public List<FeedbackJoin> Joins { get; } = [];

        public string Name => "test-recorder";

        public void Apply(IngestBatch batch) => Joins.AddRange(batch.JoinedFeedback);
    }
}
