using System.Diagnostics;
using System.Net;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.Security;

/// <summary>
/// The real OpenTelemetry .NET OTLP exporter, configured as users do (<c>OtlpExporterOptions.Headers</c>), against a
/// collector with authentication on, over loopback. The payload claims tenant "acme"; the key decides.
/// </summary>
public sealed class AuthenticatedExporterTests : IAsyncLifetime
{
    private const string ClaimedTenant = "acme";
    private readonly CollectorFactory _collector = new(TestKeys.Settings(), kestrel: true);
    private readonly StatusRecorder _statuses = new();
    private readonly HttpClient _http;

    public AuthenticatedExporterTests() => _http = new HttpClient(_statuses) { Timeout = TimeSpan.FromSeconds(30) };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _collector.DisposeAsync();
    }

    [Fact]
    public void TenantKey_DataLandsInTheKeysTenant_NotThePayloads()
    {
        var traceId = Emit(TestKeys.IngestA, out var flushed);

        Assert.True(flushed, "the exporter could not flush");
        Assert.Equal([HttpStatusCode.OK], _statuses.Seen);
        var invocation = Assert.Single(_collector.Store.Invocations);
        Assert.Equal(traceId, invocation.TraceId);
        Assert.Equal(TestKeys.TenantA, invocation.Tenant);
        Assert.Equal(TestKeys.TenantA, Assert.Single(_collector.Store.ProviderCalls).Tenant);
        Assert.Equal(TestKeys.TenantA, Assert.Single(_collector.Store.Evaluations).Tenant);
    }

    [Fact]
    public void AdminKey_ForwardsThePayloadsTenant()
    {
        Emit(TestKeys.Admin, out var flushed);

        Assert.True(flushed, "the exporter could not flush");
        Assert.Equal([HttpStatusCode.OK], _statuses.Seen);
        Assert.Equal(ClaimedTenant, Assert.Single(_collector.Store.Invocations).Tenant);
    }

    [Theory]
    [InlineData(TestKeys.Unknown, HttpStatusCode.Unauthorized)]
    [InlineData(TestKeys.ReadA, HttpStatusCode.Forbidden)]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public void WrongOrMissingKey_ExportIsRefused_AndNothingIsStored(string? key, HttpStatusCode expected)
    {
        Emit(key, out _);

        // 401 and 403 are not retryable in OTLP/HTTP: the exporter sends once and drops the batch.
        Assert.Equal([expected], _statuses.Seen);
        Assert.Empty(_collector.Store.Invocations);
        Assert.Empty(_collector.Store.ProviderCalls);
    }

    /// <summary>What the collector answered the exporter, as the exporter saw it.</summary>
    private sealed class StatusRecorder() : DelegatingHandler(new HttpClientHandler())
    {
        private readonly List<HttpStatusCode> _seen = [];

        public List<HttpStatusCode> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        // The exporter sends synchronously from its export thread.
        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Record(base.Send(request, cancellationToken));

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Record(await base.SendAsync(request, cancellationToken));

        private HttpResponseMessage Record(HttpResponseMessage response)
        {
            lock (_seen)
            {
                _seen.Add(response.StatusCode);
            }

            return response;
        }
    }

    private string Emit(string? key, out bool flushed)
    {
        var endpoint = new Uri(_collector.ListenAddress, "v1/traces");
        var sourceName = "PerfOtel.Tests.Auth." + Guid.NewGuid();
        using var source = new ActivitySource(sourceName);
        using var provider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("auth-bot")
                .AddAttributes([new(PerfOtelAttributes.Tenant, ClaimedTenant)]))
            .AddSource(sourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddOtlpExporter(exporter =>
            {
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Endpoint = endpoint;
                exporter.HttpClientFactory = () => _http;
                exporter.ExportProcessorType = ExportProcessorType.Batch;
                if (key is not null)
                {
                    exporter.Headers = "Authorization=Bearer " + key;
                }
            })
            .Build();

        string traceId;
        using (var agent = source.StartActivity("invoke_agent triage")!)
        {
            traceId = agent.TraceId.ToHexString();
            agent.SetTag(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent);
            agent.SetTag(GenAiAttributes.AgentName, "triage");
            agent.SetTag(PerfOtelAttributes.Tenant, ClaimedTenant);
            using (var chat = source.StartActivity("chat gpt-4o-mini", ActivityKind.Client)!)
            {
                chat.SetTag(GenAiAttributes.OperationName, GenAiOperations.Chat);
                chat.SetTag(GenAiAttributes.ProviderName, "openai");
                chat.SetTag(GenAiAttributes.RequestModel, "gpt-4o-mini");
                chat.SetTag(GenAiAttributes.UsageInputTokens, 10L);
            }

            agent.AddEvent(new ActivityEvent(GenAiEvents.EvaluationResult, tags: new ActivityTagsCollection
            {
                [GenAiAttributes.EvaluationName] = "relevance",
                [GenAiAttributes.EvaluationScoreValue] = 0.9,
            }));
        }

        flushed = provider.ForceFlush(30_000);
        return traceId;
    }
}
