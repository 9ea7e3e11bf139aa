using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Google.Protobuf;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.Ingest;

/// <summary>The collector process with its real SQLite store, stopped with SIGTERM while senders export.</summary>
public sealed class GracefulShutdownProcessTests
{
    private const int Senders = 4;
    private const int MaxRequestsPerSender = 200;
    private const int SpansPerRequest = 100;

    [Fact]
    public async Task Sigterm_WhileSendersExport_ExitsCleanly_AndEveryAcknowledgedSpanIsStored()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("perfotel-sigterm-");
        try
        {
            var collector = await CollectorProcess.StartAsync(dataDirectory.FullName);
            await using (collector)
            {
                using var http = new HttpClient { BaseAddress = collector.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
                var acknowledged = new ConcurrentBag<string>();
                var refusedWhileStopping = 0;
                var nextId = 0;

                async Task SendUntilStoppedAsync()
                {
                    for (var r = 0; r < MaxRequestsPerSender; r++)
                    {
                        var first = Interlocked.Add(ref nextId, SpansPerRequest) - SpansPerRequest;
                        var spanIds = Enumerable.Range(first, SpansPerRequest).Select(SpanIdOf).ToList();
                        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
                        var request = Traces(spanIds.Select((id, i) =>
                        {
                            var span = Span("invoke_agent shutdown-test", TraceIdOf(first + i), id,
                                attributes: [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent)]);
                            span.StartTimeUnixNano = now;
                            span.EndTimeUnixNano = now + 1_000_000;
                            return span;
                        }));
                        try
                        {
                            using var response = await http.PostAsync("v1/traces", Protobuf(request));
                            if (response.StatusCode == HttpStatusCode.OK)
                            {
                                spanIds.ForEach(id => acknowledged.Add(Hex(id)));
                                continue;
                            }

                            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                            Interlocked.Increment(ref refusedWhileStopping);
                            return;
                        }
                        catch (HttpRequestException)
                        {
                            return; // the process is gone: nothing was acknowledged for this request
                        }
                    }
                }

                var senders = Enumerable.Range(0, Senders).Select(_ => Task.Run(SendUntilStoppedAsync)).ToArray();
                using (var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
                {
                    while (acknowledged.Count < 10 * SpansPerRequest && !senders.All(s => s.IsCompleted))
                    {
                        await Task.Delay(20, patience.Token);
                    }
                }

                collector.Process.Terminate();
                Assert.True(await collector.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the collector did not exit after SIGTERM");
                Assert.Equal(0, collector.Process.ExitCode);
                await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(60));
                Assert.True(acknowledged.Count >= 10 * SpansPerRequest);

                await collector.RestartAsync();
                var stored = await StoredSpanIdsAsync(http);
                var lost = acknowledged.Where(id => !stored.Contains(id)).ToList();
                Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged spans are missing after the restart ({refusedWhileStopping} senders were refused with 503)");
            }
        }
        finally
        {
            dataDirectory.Delete(recursive: true);
        }
    }

    private static ByteString TraceIdOf(int n)
    {
        var bytes = new byte[16];
        bytes[0] = 0x5e;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), n);
        return ByteString.CopyFrom(bytes);
    }

    private static ByteString SpanIdOf(int n)
    {
        var bytes = new byte[8];
        bytes[0] = 0x5e;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), n);
        return ByteString.CopyFrom(bytes);
    }

    private static async Task<HashSet<string>> StoredSpanIdsAsync(HttpClient http)
    {
        var ids = new HashSet<string>();
        var body = await http.GetStringAsync("api/v1/executions/export?since=2000-01-01T00:00:00Z");
        foreach (var line in body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var json = JsonDocument.Parse(line);
            ids.Add(json.RootElement.GetProperty("spanId").GetString()!);
        }

        return ids;
    }
}
