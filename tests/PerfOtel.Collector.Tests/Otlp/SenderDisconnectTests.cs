using System.Net;
using System.Net.Sockets;
using System.Text;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;
using PerfOtel.Collector.Ingest;

namespace PerfOtel.Collector.Tests.Otlp;

public sealed class SenderDisconnectTests
{
    [Fact]
    public async Task SenderThatHangsUpMidBody_LeavesNothingBehind_AndTheReceiverCarriesOn()
    {
        await using var collector = new CollectorFactory(new() { ["Otlp:MaxConcurrentRequests"] = "1" }, kestrel: true);
        var address = collector.ListenAddress;
        var body = Traces([Span("invoke_agent a", TraceId(1), SpanId(1), attributes: [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent)])]).ToByteArray();

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, address.Port);
            var stream = tcp.GetStream();
            var head = $"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: {body.Length + 1000}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(body);
            await stream.FlushAsync();
            tcp.Client.Shutdown(SocketShutdown.Both);
        }

        // With one decode slot, a slot leaked by the aborted request would turn every later request into a 429.
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        HttpStatusCode status;
        var attempts = 0;
        do
        {
            using var response = await http.PostAsync("v1/traces", Protobuf(Traces([Span("invoke_agent b", TraceId(2), SpanId(2)) ])));
            status = response.StatusCode;
            if (status == HttpStatusCode.TooManyRequests)
            {
                await Task.Delay(50);
            }
        }
        while (status == HttpStatusCode.TooManyRequests && ++attempts < 200);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("b", Assert.Single(collector.Store.Invocations).AgentName);
        Assert.Equal(0, collector.Services.GetRequiredService<IngestQueue>().QueuedRecords);
    }
}
