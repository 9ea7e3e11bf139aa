using System.Collections.Concurrent;
using System.Net;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Reports;

/// <summary>
/// A chat webhook on 127.0.0.1 (an HttpListener, the stand-in for Slack or Mattermost): records every POST with the
/// time of the collector's clock when it arrived, and answers with the scripted statuses in order, then 200.
/// </summary>
internal sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly ConcurrentQueue<(int Status, string? RetryAfter)> script = new();
    private readonly ConcurrentQueue<(string Body, DateTimeOffset At)> received = new();
    private readonly TimeProvider clock;
    private readonly Task serving;

    public WebhookReceiver(TimeProvider clock)
    {
        this.clock = clock;
        var port = TestPorts.GetFree();
        Url = new Uri($"http://127.0.0.1:{port}/hooks/T000/B000/secret-token");
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        serving = Task.Run(ServeAsync);
    }

    /// <summary>The URL to configure, token included as in a Slack incoming-webhook URL.</summary>
    public Uri Url { get; }

    public IReadOnlyList<(string Body, DateTimeOffset At)> Received => [.. received];

    /// <summary>Answers the next requests with these statuses (and Retry-After values), in order.</summary>
    public WebhookReceiver Then(params (int Status, string? RetryAfter)[] answers)
    {
        foreach (var answer in answers)
        {
            script.Enqueue(answer);
        }
        return this;
    }

    /// <summary>Waits (real time, bounded) until at least <paramref name="count"/> requests arrived.</summary>
    public async Task WaitForAsync(int count, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (received.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the webhook received {received.Count} of {count} requests in time");
            await Task.Delay(20);
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
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using (var reader = new StreamReader(context.Request.InputStream))
            {
                received.Enqueue((await reader.ReadToEndAsync(), clock.GetUtcNow()));
            }
            var (status, retryAfter) = script.TryDequeue(out var answer) ? answer : (200, null);
            context.Response.StatusCode = status;
            if (retryAfter is not null)
            {
                context.Response.AddHeader("Retry-After", retryAfter);
            }
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        serving.Wait(TimeSpan.FromSeconds(10));
    }
}
