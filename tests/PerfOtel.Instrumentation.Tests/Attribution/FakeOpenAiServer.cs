using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PerfOtel.Instrumentation.Tests.Attribution;

/// <summary>
/// A fake OpenAI endpoint on 127.0.0.1: answers every chat completion with a canned completion and its usage.
/// </summary>
internal sealed class FakeOpenAiServer : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly Task serving;
    private int requests;

    public FakeOpenAiServer(string model, int promptTokens, int completionTokens, int cachedTokens = 0)
    {
        var port = FreePort();
        BaseAddress = new Uri($"http://127.0.0.1:{port}/v1");
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var body = $$$"""
            {"id": "chatcmpl-test", "object": "chat.completion", "created": 1700000000, "model": "{{{model}}}",
             "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris"}, "finish_reason": "stop"}],
             "usage": {"prompt_tokens": {{{promptTokens}}}, "completion_tokens": {{{completionTokens}}}, "total_tokens": {{{promptTokens + completionTokens}}},
                       "prompt_tokens_details": {"cached_tokens": {{{cachedTokens}}} } }}
            """;
        serving = Task.Run(() => ServeAsync(Encoding.UTF8.GetBytes(body)));
    }

    public Uri BaseAddress { get; }

    public int Requests => Volatile.Read(ref requests);

    public void Dispose()
    {
        stopping.Cancel();
        listener.Stop();
        try
        {
            serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        listener.Close();
        stopping.Dispose();
    }

    private async Task ServeAsync(byte[] completion)
    {
        while (!stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            Interlocked.Increment(ref requests);
            using (var reader = new StreamReader(context.Request.InputStream))
            {
                await reader.ReadToEndAsync();
            }
            var isChat = context.Request.Url?.AbsolutePath.EndsWith("/chat/completions", StringComparison.Ordinal) == true;
            context.Response.StatusCode = isChat ? 200 : 404;
            context.Response.ContentType = "application/json";
            if (isChat)
            {
                await context.Response.OutputStream.WriteAsync(completion);
            }
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
