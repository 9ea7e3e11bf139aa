using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.EndToEnd;

/// <summary>
/// Principle 5: the collector answers 200 only for what is committed. A collector process killed with SIGKILL while
/// clients send spans, then restarted on the same data directory, must still hold every span it acknowledged.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class CrashSafetyTests : IDisposable
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("perfotel-crash-").FullName;

    [Fact]
    public async Task SigKill_WhileClientsSend_LosesNoAcknowledgedSpan()
    {
        await using var collector = await CollectorProcess.StartAsync(dataDirectory);
        var acknowledged = await SendUntilKilledAsync(collector, kill: () => collector.Process.KillHard());
        Assert.True(acknowledged.Count >= 500, $"only {acknowledged.Count} spans acknowledged before the kill");

        await collector.RestartAsync();
        var stored = await ExportedSpanIdsAsync(collector);
        var lost = acknowledged.Where(id => !stored.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged spans lost after SIGKILL, e.g. {string.Join(", ", lost.Take(5))}");
    }

    [Fact]
    public async Task SigTerm_WhileClientsSend_ExitsCleanlyAndKeepsEveryAcknowledgedSpan()
    {
        await using var collector = await CollectorProcess.StartAsync(dataDirectory);
        var acknowledged = await SendUntilKilledAsync(collector, kill: () => collector.Process.Terminate());
        Assert.True(await collector.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)), "collector did not exit within 30 s of SIGTERM");
        Assert.True(collector.Process.ExitCode == 0, $"exit code {collector.Process.ExitCode}:\n{collector.Process.Output}");

        await collector.RestartAsync();
        var stored = await ExportedSpanIdsAsync(collector);
        Assert.All(acknowledged, id => Assert.Contains(id, stored));
    }

    /// <summary>
    /// Four clients send 50-span batches; once 1 000 spans are acknowledged (or 2 000 requests went out) the process is
    /// stopped while requests are still in flight. Returns the span ids of every request answered 200.
    /// </summary>
    private static async Task<HashSet<string>> SendUntilKilledAsync(CollectorProcess collector, Action kill)
    {
        var acknowledged = new ConcurrentBag<string>();
        var sent = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var http = new HttpClient { BaseAddress = collector.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        async Task Client()
        {
            while (!stop.IsCancellationRequested && Interlocked.Increment(ref sent) <= 2000)
            {
                var (json, ids) = OtlpJsonSpans.InvokeAgentBatch(50);
                try
                {
                    using var content = new StringContent(json, Encoding.UTF8, "application/json");
                    using var response = await http.PostAsync("v1/traces", content, stop.Token);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        foreach (var id in ids)
                        {
                            acknowledged.Add(id);
                        }
                    }
                }
                catch (HttpRequestException)
                {
                    return; // the process is gone
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(Client)).ToArray();
        while (acknowledged.Count < 1000 && !stop.IsCancellationRequested && clients.Any(c => !c.IsCompleted))
        {
            await Task.Delay(20);
        }
        kill();
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(60));
        return acknowledged.ToHashSet();
    }

    private static async Task<HashSet<string>> ExportedSpanIdsAsync(CollectorProcess collector)
    {
        using var http = new HttpClient { BaseAddress = collector.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var ndjson = await http.GetStringAsync("api/v1/executions/export?since=2000-01-01T00:00:00Z");
        var ids = new HashSet<string>();
        foreach (var line in ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            ids.Add(ExportFormat.SpanId(doc.RootElement));
        }
        return ids;
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

/// <summary>Process-level tests start real processes and ports: run them one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessTests
{
    public const string Name = "process-level";
}
