using System.Collections.Concurrent;
using System.Net;
using PerfOtel.Testing;

namespace PerfOtel.Instrumentation.Tests.Fleet;

/// <summary>The AgentFleet process as later issues use it: its command line, its OTLP/HTTP export, its stopping.</summary>
public class AgentFleetCommandLineTests
{
    private static readonly string FleetAssembly = Path.Combine(AppContext.BaseDirectory, "AgentFleet.dll");
    private static readonly string Dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    [Fact]
    public async Task The_fleet_exports_protobuf_to_the_otlp_paths_posts_feedback_and_stops_by_itself()
    {
        using var receiver = new OtlpReceiver();
        await using var fleet = ExternalProcess.Start(Dotnet,
        [
            FleetAssembly, "--endpoint", receiver.BaseAddress.ToString().TrimEnd('/'), "--duration", "2", "--rate", "10",
            "--seed", "3", "--tenant", "cli-test", "--feedback", "1",
        ]);

        Assert.True(await fleet.WaitForExitAsync(TimeSpan.FromSeconds(90)), "AgentFleet did not stop by itself:\n" + fleet.Output);
        Assert.True(fleet.ExitCode == 0, fleet.Output);
        Assert.Contains("invocations: 20", fleet.Output, StringComparison.Ordinal);
        Assert.Contains("feedback: 20 posted, 0 failed", fleet.Output, StringComparison.Ordinal);

        var requests = receiver.Requests;
        Assert.Contains(requests, r => r.Path == "/v1/traces" && r.ContentType == "application/x-protobuf" && r.Length > 0);
        Assert.Contains(requests, r => r.Path == "/v1/metrics" && r.ContentType == "application/x-protobuf" && r.Length > 0);
        Assert.Equal(20, requests.Count(r => r.Path == "/api/v1/feedback" && r.ContentType.StartsWith("application/json", StringComparison.Ordinal)));
        Assert.All(requests, r => Assert.Equal("POST", r.Method));
    }

    [Fact]
    public async Task The_fleet_serves_its_metrics_for_prometheus_while_it_runs()
    {
        var port = TestPorts.GetFree();
        await using var fleet = ExternalProcess.Start(Dotnet,
            [FleetAssembly, "--duration", "8", "--rate", "5", "--seed", "4", "--tenant", "scraped", "--prometheus-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };

        string? exposition = null;
        for (var attempt = 0; attempt < 60 && !fleet.HasExited; attempt++)
        {
            await Task.Delay(250);
            try
            {
                var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
                if (text.Contains("perfotel_agent_invocations_total{", StringComparison.Ordinal))
                {
                    exposition = text;
                    break;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
        }

        Assert.True(exposition is not null, "No invocation counter was scraped while the fleet ran:\n" + fleet.Output);
        Assert.Contains("perfotel_tenant=\"scraped\"", exposition, StringComparison.Ordinal);
        Assert.Contains("# TYPE gen_ai_client_operation_duration_seconds histogram", exposition, StringComparison.Ordinal);
        Assert.True(await fleet.WaitForExitAsync(TimeSpan.FromSeconds(90)), fleet.Output);
        Assert.Equal(0, fleet.ExitCode);
    }

    [Theory]
    [InlineData("--rate", "0", "--rate must be a positive number.")]
    [InlineData("--duration", "-3", "--duration must be a positive number.")]
    [InlineData("--feedback", "1.5", "--feedback must be a ratio from 0 to 1.")]
    [InlineData("--endpoint", "not a url", "--endpoint must be an absolute http(s) URL")]
    [InlineData("--agent-degraded", "nobody", "--agent-degraded must name an agent of the fleet")]
    [InlineData("--prometheus-port", "70000", "--prometheus-port must be from 1 to 65535.")]
    public async Task Bad_arguments_fail_with_a_clear_message(string option, string value, string message)
    {
        // A run that got past the parser would stop after a second anyway.
        string[] arguments = option == "--duration" ? [FleetAssembly, option, value] : [FleetAssembly, option, value, "--duration", "1"];
        await using var fleet = ExternalProcess.Start(Dotnet, arguments);
        Assert.True(await fleet.WaitForExitAsync(TimeSpan.FromSeconds(60)), fleet.Output);
        Assert.NotEqual(0, fleet.ExitCode);
        Assert.Contains(message, fleet.Output, StringComparison.Ordinal);
    }

    private sealed record ReceivedRequest(string Method, string Path, string ContentType, long Length);

    /// <summary>Accepts every OTLP/HTTP export and feedback post on 127.0.0.1 and remembers what arrived.</summary>
    private sealed class OtlpReceiver : IDisposable
    {
        private readonly HttpListener listener = new();
        private readonly ConcurrentQueue<ReceivedRequest> requests = new();
        private readonly Task serving;

        public OtlpReceiver()
        {
            BaseAddress = new Uri($"http://127.0.0.1:{TestPorts.GetFree()}/");
            listener.Prefixes.Add(BaseAddress.ToString());
            listener.Start();
            serving = Task.Run(ServeAsync);
        }

        public Uri BaseAddress { get; }

        public IReadOnlyList<ReceivedRequest> Requests => [.. requests];

        public void Dispose()
        {
            listener.Stop();
            listener.Close();
            try
            {
                serving.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
            }
        }

        private async Task ServeAsync()
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                requests.Enqueue(new ReceivedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath,
                    context.Request.ContentType ?? "", body.Length));
                // An empty protobuf body is a valid, fully successful OTLP export response.
                context.Response.StatusCode = context.Request.Url.AbsolutePath.StartsWith("/api/", StringComparison.Ordinal) ? 202 : 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
        }
    }
}
