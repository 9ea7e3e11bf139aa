using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentFleet.Fleet;

namespace AgentFleet.Feedback;

/// <summary>
/// Sends users' verdicts on answers to the collector (<c>POST {endpoint}/api/v1/feedback</c>), identified by task id or
/// by the invocation's trace and span ids. Errors never stop the fleet: they are counted and reported at the end.
/// </summary>
public sealed class FeedbackPoster(HttpClient http, Uri endpoint, double latencyScale) : IDisposable
{
    private readonly List<Task> pending = [];
    private int posted;
    private int failed;

    public int Posted => Volatile.Read(ref posted);

    public int Failed => Volatile.Read(ref failed);

    /// <summary>Schedules the feedback of an invocation that asked for it (immediately or after its delay).</summary>
    public void Schedule(InvocationResult result, CancellationToken cancellationToken)
    {
        if (result.Plan.FeedbackDelaySeconds is not { } delay)
        {
            return;
        }
        lock (pending)
        {
            pending.Add(PostAsync(result, TimeSpan.FromSeconds(delay * latencyScale), cancellationToken));
        }
    }

    /// <summary>Waits for scheduled feedback, at most <paramref name="timeout"/>.</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        Task[] all;
        lock (pending)
        {
            all = [.. pending];
        }
        await Task.WhenAny(Task.WhenAll(all), Task.Delay(timeout));
    }

    public static JsonObject Body(InvocationResult result)
    {
        var plan = result.Plan;
        var body = new JsonObject();
        // Alternate the two ways of naming the invocation; the trace ids exist only when spans are recorded.
        if (plan.Index % 2 == 1 && result.TraceId is { } traceId && result.SpanId is { } spanId)
        {
            body["traceId"] = traceId.ToHexString();
            body["spanId"] = spanId.ToHexString();
        }
        else
        {
            body["taskId"] = plan.TaskId;
        }
        body["success"] = plan.Succeeded;
        body["score"] = plan.JudgeScore ?? (plan.Succeeded ? 1.0 : 0.0);
        body["predicted"] = plan.Predicted.DeepClone();
        body["actual"] = plan.Actual.DeepClone();
        return body;
    }

    public void Dispose() => http.Dispose();

    private async Task PostAsync(InvocationResult result, TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, cancellationToken);
            }
            using var response = await http.PostAsJsonAsync(new Uri(endpoint, "api/v1/feedback"), Body(result), cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref posted);
            }
            else
            {
                Interlocked.Increment(ref failed);
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or OperationCanceledException)
        {
            Interlocked.Increment(ref failed);
        }
    }
}
