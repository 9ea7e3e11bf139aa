using System.Net;
using System.Text.Json;
using PerfOtel.Testing;

namespace PerfOtel.Alerting.Tests.EndToEnd;

/// <summary>One alert as Alertmanager's webhook integration delivered it, with the receiver it was routed to.</summary>
internal sealed record DeliveredAlert(
    string Receiver, string Status, IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations)
{
    public string Name => Labels.GetValueOrDefault("alertname", "");

    public string Agent => Labels.GetValueOrDefault("agent", "");
}

/// <summary>
/// Stands in for the pager and chat services: an HTTP listener on 127.0.0.1 that records every webhook notification
/// Alertmanager posts (one path per receiver), answers 200, and never leaves the machine.
/// </summary>
internal sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly List<DeliveredAlert> alerts = [];
    private readonly List<string> malformed = [];
    private readonly Task serving;

    public WebhookReceiver()
    {
        BaseAddress = new Uri($"http://127.0.0.1:{TestPorts.GetFree()}/");
        listener.Prefixes.Add(BaseAddress.ToString());
        listener.Start();
        serving = Task.Run(ServeAsync);
    }

    public Uri BaseAddress { get; }

    /// <summary>The URL a receiver's webhook_configs entry posts to.</summary>
    public Uri UrlFor(string receiver) => new(BaseAddress, receiver);

    public IReadOnlyList<DeliveredAlert> Alerts
    {
        get
        {
            lock (alerts)
            {
                return [.. alerts];
            }
        }
    }

    /// <summary>Bodies that were not Alertmanager webhook payloads (a test failure in itself).</summary>
    public IReadOnlyList<string> Malformed
    {
        get
        {
            lock (alerts)
            {
                return [.. malformed];
            }
        }
    }

    /// <summary>Waits until an alert matching the condition was delivered; null when the deadline passes first.</summary>
    public async Task<DeliveredAlert?> WaitForAsync(Func<DeliveredAlert, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var match = Alerts.FirstOrDefault(condition);
            if (match is not null || DateTime.UtcNow >= deadline)
            {
                return match;
            }
            await Task.Delay(500);
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
            using (context.Response)
            {
                using var reader = new StreamReader(context.Request.InputStream);
                var body = await reader.ReadToEndAsync();
                var receiver = context.Request.Url?.AbsolutePath.Trim('/') ?? "";
                Record(receiver, body);
                context.Response.StatusCode = 200;
            }
        }
    }

    private void Record(string receiver, string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var delivered = document.RootElement.GetProperty("alerts").EnumerateArray()
                .Select(a => new DeliveredAlert(receiver, a.GetProperty("status").GetString() ?? "",
                    Strings(a.GetProperty("labels")), Strings(a.GetProperty("annotations"))))
                .ToList();
            lock (alerts)
            {
                alerts.AddRange(delivered);
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            lock (alerts)
            {
                malformed.Add($"{receiver}: {e.Message}: {body}");
            }
        }
    }

    private static Dictionary<string, string> Strings(JsonElement map) =>
        map.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        serving.Wait(TimeSpan.FromSeconds(5));
    }
}
