using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using PerfOtel.Exporter.Implementation;
using PerfOtel.Exporter.Implementation.Scraping;

namespace PerfOtel.Exporter;

/// <summary>Maps the Prometheus / OpenMetrics scrape endpoint in ASP.NET Core.</summary>
public static class EndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the scrape endpoint for the <see cref="MeterProvider"/> registered in the service collection
    /// (<c>builder.Services.AddOpenTelemetry().WithMetrics(...)</c> registers it), which must have been built with
    /// <c>AddPerfOtelPrometheusExporter()</c>.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder (usually the WebApplication).</param>
    /// <param name="path">Endpoint path; null uses the exporter's <c>ScrapeEndpointPath</c> (default <c>/metrics</c>).</param>
    /// <returns>A builder to add conventions (authorisation, host filters) to the endpoint.</returns>
    public static IEndpointConventionBuilder MapPerfOtelScrapingEndpoint(this IEndpointRouteBuilder endpoints, string? path = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var meterProvider = endpoints.ServiceProvider.GetService<MeterProvider>()
            ?? throw new InvalidOperationException(
                "No MeterProvider is registered. Register it with builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddPerfOtelPrometheusExporter()) "
                + "or pass a built one to MapPerfOtelScrapingEndpoint(meterProvider).");
        return endpoints.MapPerfOtelScrapingEndpoint(meterProvider, path);
    }

    /// <summary>Maps the scrape endpoint for a given <see cref="MeterProvider"/> built with <c>AddPerfOtelPrometheusExporter()</c>.</summary>
    /// <param name="endpoints">The endpoint route builder (usually the WebApplication).</param>
    /// <param name="meterProvider">The built MeterProvider.</param>
    /// <param name="path">Endpoint path; null uses the exporter's <c>ScrapeEndpointPath</c> (default <c>/metrics</c>).</param>
    /// <returns>A builder to add conventions (authorisation, host filters) to the endpoint.</returns>
    public static IEndpointConventionBuilder MapPerfOtelScrapingEndpoint(
        this IEndpointRouteBuilder endpoints, MeterProvider meterProvider, string? path = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(meterProvider);
        var exporter = PerfOtelPrometheusExporter.FindFor(meterProvider)
            ?? throw new InvalidOperationException(
                "The MeterProvider has no PerfOtel Prometheus exporter. Add it with AddPerfOtelPrometheusExporter() before Build().");

        // All methods are routed here so that the endpoint itself answers 405 with an Allow header.
        return endpoints.Map(path ?? exporter.Options.ScrapeEndpointPath, context =>
            ScrapeRequestHandler.HandleAsync(
                exporter,
                context.Request.Method,
                context.Request.Headers.Accept.ToString(),
                context.Request.Headers.AcceptEncoding.ToString(),
                new AspNetCoreResponse(context.Response),
                context.RequestAborted));
    }

    private sealed class AspNetCoreResponse(HttpResponse response) : IScrapeResponse
    {
        public Stream Body => response.Body;

        public void SetStatus(int statusCode) => response.StatusCode = statusCode;

        public void SetHeader(string name, string value) => response.Headers[name] = value;

        public void SetContentLength(long length) => response.ContentLength = length;
    }
}
