using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Core;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Collector.Tests.Security;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>
/// The collector as its own process at the default log level: no line per request over either transport (ASP.NET
/// Core's hosting and routing lines, Grpc.AspNetCore's call lines, the collector's own refusals), refusals of both
/// transports summarised in one line with their counts and last reason.
/// </summary>
public sealed partial class QuietLoggingTests : IDisposable
{
    private const int Accepted = 60;
    private const int Undecodable = 10;
    private const int WrongMediaType = 5;
    private const int WithoutKey = 5;
    private const int PartlyInvalid = 4;
    private const int GrpcAccepted = 40;
    private const int GrpcUndecodable = 7;
    private const int GrpcWithoutKey = 3;
    private const int GrpcPartlyInvalid = 2;
    private const string GrpcTraceExport = "/" + OtlpGrpcClient.TraceService + "/Export";

    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("perfotel-quiet-logging-");

    public void Dispose() => _data.Delete(recursive: true);

    [Fact]
    public async Task ManyRequests_AtTheDefaultLevel_WriteNoLinePerRequest_AndOneSummaryOfTheRefusals()
    {
        // CollectorProcess quiets the collector for tests (Default=Warning); this test needs the shipped default.
        var environment = new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Information" };
        var settings = TestKeys.Settings().ToDictionary(p => p.Key, p => p.Value!);
        await using var collector = await CollectorProcess.StartAsync(_data.FullName, settings, environment: environment);
        using var http = new HttpClient { BaseAddress = collector.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var linesBefore = collector.Process.LineCount;

        for (var i = 0; i < Accepted; i++)
        {
            var trace = TraceId(0x7000 + i);
            var request = Traces([Span("invoke_agent quiet", trace, SpanId(1), attributes:
                [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent), (GenAiAttributes.AgentName, "quiet")])]);
            await SendAsync(http, HttpStatusCode.OK, Protobuf(request), TestKeys.IngestA);
        }

        for (var i = 0; i < Undecodable; i++)
        {
            await SendAsync(http, HttpStatusCode.BadRequest, Content([0xff, 0xff, 0xff], "application/x-protobuf"), TestKeys.IngestA);
        }

        for (var i = 0; i < WrongMediaType; i++)
        {
            await SendAsync(http, HttpStatusCode.UnsupportedMediaType, Content([1], "text/plain"), TestKeys.IngestA);
        }

        for (var i = 0; i < WithoutKey; i++)
        {
            await SendAsync(http, HttpStatusCode.Unauthorized, Protobuf(Traces([])), key: null);
        }

        for (var i = 0; i < PartlyInvalid; i++)
        {
            await SendAsync(http, HttpStatusCode.OK, Protobuf(PartlyInvalidRequest(0x7100 + i)), TestKeys.IngestA);
        }

        using (var grpc = OtlpGrpcClient.Loopback(collector.GrpcAddress))
        {
            for (var i = 0; i < GrpcAccepted; i++)
            {
                var trace = TraceId(0x7200 + i);
                await grpc.ExportAsync(Traces([Span("invoke_agent quiet", trace, SpanId(1), attributes:
                    [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent), (GenAiAttributes.AgentName, "quiet")])]), TestKeys.IngestA);
            }

            for (var i = 0; i < GrpcUndecodable; i++)
            {
                var error = await Assert.ThrowsAsync<RpcException>(() => grpc.ExportRawAsync([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01], apiKey: TestKeys.IngestA));
                Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            }

            for (var i = 0; i < GrpcWithoutKey; i++)
            {
                var error = await Assert.ThrowsAsync<RpcException>(() => grpc.ExportAsync(Traces([])));
                Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
            }

            for (var i = 0; i < GrpcPartlyInvalid; i++)
            {
                var response = await grpc.ExportAsync(PartlyInvalidRequest(0x7300 + i), TestKeys.IngestA);
                Assert.Equal(1, response.PartialSuccess.RejectedSpans);
            }
        }

        const int requests = Accepted + Undecodable + WrongMediaType + WithoutKey + PartlyInvalid
            + GrpcAccepted + GrpcUndecodable + GrpcWithoutKey + GrpcPartlyInvalid;
        var linesDuring = collector.Process.LineCount - linesBefore;
        collector.Process.Terminate();
        Assert.True(await collector.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)), "collector did not stop on SIGTERM");
        var output = collector.Process.Output;

        // A handful of late start-up lines and at most one summary may fall in the window; one per request may not.
        Assert.True(linesDuring < requests / 4, $"{linesDuring} log lines for {requests} requests:\n{output}");
        foreach (var perRequest in new[] { "Request starting", "Request finished", "Executing endpoint", "Executed endpoint",
                     "Refused request to", "Undecodable OTLP request", "Error status code", "Grpc.AspNetCore" })
        {
            Assert.DoesNotContain(perRequest, output, StringComparison.Ordinal);
        }

        // The refusals are all in the summary (written at shutdown, or by the minute when the run was slow).
        var summaries = output.Split('\n').Where(l => l.Contains("Refused since the last summary:", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(summaries);
        Assert.Equal(Undecodable, Total(summaries, "/v1/traces 400"));
        Assert.Equal(WrongMediaType, Total(summaries, "/v1/traces 415"));
        Assert.Equal(WithoutKey + GrpcWithoutKey, Total(summaries, "API key refused on OtlpIngest routes, 401"));
        Assert.Equal(GrpcUndecodable, Total(summaries, GrpcTraceExport + " InvalidArgument"));
        Assert.Contains("request is not a valid protobuf", string.Join('\n', summaries), StringComparison.Ordinal);
        // Items refused inside accepted exports (partial_success) are counted per item, whichever transport carried them.
        Assert.Equal(PartlyInvalid + GrpcPartlyInvalid, Total(summaries, "traces items refused in partial_success"));
        // Calls that were answered OK are in no summary.
        Assert.Equal(0, Total(summaries, GrpcTraceExport + " OK"));
    }

    // One valid invocation and one span whose trace id is 3 bytes: OK with partial_success.rejected_spans = 1.
    private static OpenTelemetry.Proto.Collector.Trace.V1.ExportTraceServiceRequest PartlyInvalidRequest(int trace)
    {
        var request = Traces([
            Span("invoke_agent quiet", TraceId(trace), SpanId(1), attributes:
                [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent), (GenAiAttributes.AgentName, "quiet")]),
            Span("invoke_agent quiet", TraceId(trace), SpanId(2), attributes:
                [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent), (GenAiAttributes.AgentName, "quiet")]),
        ]);
        request.ResourceSpans[0].ScopeSpans[0].Spans[1].TraceId = ByteString.CopyFrom(1, 2, 3);
        return request;
    }

    private static int Total(List<string> summaries, string kind) =>
        summaries.Sum(line => Regex.Match(line, Regex.Escape(kind) + ": (\\d+)") is { Success: true } match
            ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : 0);

    private static async Task SendAsync(HttpClient http, HttpStatusCode expected, HttpContent content, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/traces") { Content = content }.With(key);
        using var response = await http.SendAsync(request);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}
