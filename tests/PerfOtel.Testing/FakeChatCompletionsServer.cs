using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace PerfOtel.Testing;

/// <summary>What the fake server answers to one chat completion request.</summary>
/// <param name="PromptTokens"><c>usage.prompt_tokens</c>.</param>
/// <param name="CompletionTokens"><c>usage.completion_tokens</c>.</param>
/// <param name="CachedTokens"><c>usage.prompt_tokens_details.cached_tokens</c>.</param>
/// <param name="Content">The assistant's text; ignored when <paramref name="ToolCall"/> is set.</param>
/// <param name="ToolCall">A function the model asks to call, with its JSON arguments.</param>
/// <param name="FailWithStatus">When set, an OpenAI error body with this HTTP status instead of a completion.</param>
public sealed record FakeChatReply(
    int PromptTokens,
    int CompletionTokens,
    int CachedTokens = 0,
    string Content = "Paris",
    (string Name, string ArgumentsJson)? ToolCall = null,
    int? FailWithStatus = null);

/// <summary>
/// An OpenAI-compatible chat completions endpoint on 127.0.0.1 (the LLM the real client libraries call in tests):
/// answers <c>POST {BaseAddress}/chat/completions</c> with the scripted replies in order, then with the default reply.
/// Only what users never run is faked; the libraries, their telemetry and the exporters are the real ones.
/// </summary>
public sealed class FakeChatCompletionsServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<FakeChatReply> _script = new();
    private readonly ConcurrentQueue<string> _requestBodies = new();
    private readonly FakeChatReply _defaultReply;
    private readonly string _model;
    private readonly Task _serving;
    private int _requests;

    public FakeChatCompletionsServer(string model, FakeChatReply defaultReply)
    {
        _model = model;
        _defaultReply = defaultReply;
        var port = TestPorts.GetFree();
        BaseAddress = new Uri($"http://127.0.0.1:{port}/v1");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>The OpenAI endpoint to give a client, e.g. http://127.0.0.1:41234/v1.</summary>
    public Uri BaseAddress { get; }

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The request bodies received, in order.</summary>
    public IReadOnlyCollection<string> RequestBodies => _requestBodies;

    /// <summary>Answers the next requests with these replies, in order.</summary>
    public FakeChatCompletionsServer Then(params FakeChatReply[] replies)
    {
        foreach (var reply in replies)
        {
            _script.Enqueue(reply);
        }

        return this;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Stop();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _listener.Close();
        _stopping.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }

            try
            {
                await AnswerAsync(context);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                // The client went away; the next request is served as usual.
            }
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        using (var reader = new StreamReader(context.Request.InputStream))
        {
            _requestBodies.Enqueue(await reader.ReadToEndAsync());
        }

        var index = Interlocked.Increment(ref _requests);
        var isChat = context.Request.HttpMethod == "POST"
            && context.Request.Url?.AbsolutePath.EndsWith("/chat/completions", StringComparison.Ordinal) == true;
        context.Response.ContentType = "application/json";
        if (!isChat)
        {
            context.Response.StatusCode = 404;
            context.Response.Close();
            return;
        }

        var reply = _script.TryDequeue(out var next) ? next : _defaultReply;
        context.Response.StatusCode = reply.FailWithStatus ?? 200;
        var body = reply.FailWithStatus is null ? Completion(reply, index) : Error(reply.FailWithStatus.Value);
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    private string Completion(FakeChatReply reply, int index)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id", "chatcmpl-fake-" + index.ToString(CultureInfo.InvariantCulture));
            json.WriteString("object", "chat.completion");
            json.WriteNumber("created", 1_700_000_000);
            json.WriteString("model", _model);
            json.WriteStartArray("choices");
            json.WriteStartObject();
            json.WriteNumber("index", 0);
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            if (reply.ToolCall is { } call)
            {
                json.WriteNull("content");
                json.WriteStartArray("tool_calls");
                json.WriteStartObject();
                json.WriteString("id", "call_" + index.ToString(CultureInfo.InvariantCulture));
                json.WriteString("type", "function");
                json.WriteStartObject("function");
                json.WriteString("name", call.Name);
                json.WriteString("arguments", call.ArgumentsJson);
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteEndArray();
            }
            else
            {
                json.WriteString("content", reply.Content);
            }

            json.WriteEndObject();
            json.WriteString("finish_reason", reply.ToolCall is null ? "stop" : "tool_calls");
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteStartObject("usage");
            json.WriteNumber("prompt_tokens", reply.PromptTokens);
            json.WriteNumber("completion_tokens", reply.CompletionTokens);
            json.WriteNumber("total_tokens", reply.PromptTokens + reply.CompletionTokens);
            json.WriteStartObject("prompt_tokens_details");
            json.WriteNumber("cached_tokens", reply.CachedTokens);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Error(int status) =>
        $$$"""{"error": {"message": "fake server refused the request with {{{status}}}", "type": "invalid_request_error", "param": null, "code": "fake_failure"}}""";
}
