using System.Net;
using PerfOtel.Exporter.Implementation.Scraping;

namespace PerfOtel.Exporter.Implementation.Hosting;

/// <summary>
/// Serves the scrape endpoint with <see cref="HttpListener"/> for processes without ASP.NET Core. Started when the
/// MeterProvider is built, stopped when the exporter is shut down with it.
/// </summary>
internal sealed class PrometheusHttpListenerServer : IDisposable
{
    private readonly PerfOtelPrometheusExporter exporter;
    private readonly HttpListener listener = new();
    private readonly string path;
    private readonly string[] prefixes;
    private readonly CancellationTokenSource stopping = new();
    private Task? acceptLoop;

    public PrometheusHttpListenerServer(PerfOtelPrometheusExporter exporter, PerfOtelPrometheusHttpListenerOptions options)
    {
        this.exporter = exporter;
        path = options.ScrapeEndpointPath.TrimEnd('/');
        prefixes = options.UriPrefixes.Select(prefix => prefix.EndsWith('/') ? prefix : prefix + "/").ToArray();
        foreach (var prefix in prefixes)
        {
            listener.Prefixes.Add(prefix);
        }
    }

    public void Start()
    {
        try
        {
            listener.Start();
        }
        catch (HttpListenerException exception)
        {
            throw new InvalidOperationException(
                $"The Prometheus HTTP listener could not listen on {string.Join(", ", prefixes)}: {exception.Message}. "
                + "Choose another port in UriPrefixes.", exception);
        }

        acceptLoop = Task.Run(AcceptLoopAsync);
    }

    private async Task AcceptLoopAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException exception)
            {
                PerfOtelExporterEventSource.Log.ListenerFailed(exception.Message);
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(context));
        }
    }

    private async Task ServeAsync(HttpListenerContext context)
    {
        try
        {
            var requestPath = context.Request.Url?.AbsolutePath.TrimEnd('/') ?? string.Empty;
            if (!string.Equals(requestPath, path, StringComparison.Ordinal))
            {
                context.Response.StatusCode = 404;
                return;
            }

            await ScrapeRequestHandler.HandleAsync(exporter, context.Request.HttpMethod, context.Request.Headers["Accept"],
                context.Request.Headers["Accept-Encoding"], new ListenerResponse(context.Response), stopping.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is HttpListenerException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The scraper went away or the listener is stopping; nothing to answer.
            PerfOtelExporterEventSource.Log.ScrapeFailed(exception.Message);
        }
#pragma warning disable CA1031 // A fire-and-forget request task must not take its failure to an unobserved task.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            PerfOtelExporterEventSource.Log.ScrapeFailed(exception.ToString());
            TrySetStatus(context.Response, 500);
        }
        finally
        {
            try
            {
                context.Response.Close();
            }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                PerfOtelExporterEventSource.Log.ScrapeFailed(exception.Message);
            }
        }
    }

    private static void TrySetStatus(HttpListenerResponse response, int statusCode)
    {
        try
        {
            response.StatusCode = statusCode;
        }
        catch (InvalidOperationException)
        {
            // Headers already sent: the scraper sees a truncated body and records a failed scrape.
        }
    }

    public void Dispose()
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }

        stopping.Cancel();
        listener.Close();
        try
        {
            acceptLoop?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop reports its own failures; shutdown must not throw.
        }

        stopping.Dispose();
    }

    private sealed class ListenerResponse(HttpListenerResponse response) : IScrapeResponse
    {
        public Stream Body => response.OutputStream;

        public void SetStatus(int statusCode) => response.StatusCode = statusCode;

        public void SetHeader(string name, string value)
        {
            if (name == "Content-Type")
            {
                response.ContentType = value;
            }
            else
            {
                response.Headers[name] = value;
            }
        }

        public void SetContentLength(long length) => response.ContentLength64 = length;
    }
}
