using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Receiving.Grpc;

/// <summary>
/// Where OTLP/gRPC is served: its own HTTP/2-only listener beside the HTTP/1.1 one, as OTLP's two default ports (4317
/// and 4318) are. Both are ordinary server URLs, so <c>urls</c>, <c>ASPNETCORE_URLS</c> and <c>Metrics:Port</c> keep
/// working; the protocols are chosen per port through Kestrel's endpoint defaults.
/// </summary>
public static partial class OtlpGrpcListener
{
    /// <summary>The gRPC URL the configuration asks for, or null when gRPC is off or the setting is invalid.</summary>
    public static string? Url(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = configuration[$"{OtlpOptions.SectionName}:{nameof(OtlpOptions.GrpcEndpoint)}"];
        if (configured is not null)
        {
            return IsOff(configured) || Invalid(configured) is not null ? null : configured.Trim();
        }

        // Same host as the main listener, like the metrics listener: the port, not the interface, is what differs.
        var urls = configuration["urls"] ?? OtlpOptions.DefaultUrl;
        var first = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
            ?? OtlpOptions.DefaultUrl;
        var host = BindingAddress.Parse(first).Host;
        return string.Create(CultureInfo.InvariantCulture, $"http://{host}:{OtlpOptions.DefaultGrpcPort}");
    }

    /// <summary>Why a configured endpoint cannot be served, or null when it can (or is off).</summary>
    internal static string? Invalid(string? endpoint)
    {
        if (endpoint is null || IsOff(endpoint))
        {
            return null;
        }

        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(endpoint.Trim());
        }
        catch (FormatException)
        {
            return "must be a URL such as http://0.0.0.0:4317";
        }

        if (!string.Equals(address.Scheme, "http", StringComparison.OrdinalIgnoreCase))
        {
            return "must be an http:// URL (gRPC over cleartext HTTP/2; terminate TLS in front of the collector)";
        }

        if (address.Port is < 1 or > 65535 || !ExplicitPort().IsMatch(endpoint.Trim()) || address.PathBase.Length > 0)
        {
            return "must name a host and an explicit port, and no path (e.g. http://0.0.0.0:4317)";
        }

        return null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@":[0-9]+/?$")]
    private static partial System.Text.RegularExpressions.Regex ExplicitPort();

    private static bool IsOff(string value) =>
        string.IsNullOrWhiteSpace(value) || value.Trim().Equals("none", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Serves OTLP/gRPC: the gRPC services (message limit = <c>Otlp:MaxRequestBytes</c>, gzip), the listener's URL
    /// added to the server's, HTTP/2 only on that port and HTTP/1.1 on the others, and on each a check that logs and
    /// counts exporters speaking the other transport. Call after the collector's configuration sources are added.
    /// </summary>
    public static WebApplicationBuilder AddOtlpGrpcReceiver(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var maxBytes = builder.Configuration.GetValue<long?>($"{OtlpOptions.SectionName}:{nameof(OtlpOptions.MaxRequestBytes)}")
            ?? new OtlpOptions().MaxRequestBytes;
        builder.Services.AddGrpc(options =>
        {
            // The HTTP body limit, after decompression (the gzip provider enforces it while inflating).
            options.MaxReceiveMessageSize = (int)Math.Clamp(maxBytes, 1024, int.MaxValue);
            options.CompressionProviders.Clear();
            options.CompressionProviders.Add(new LimitedGzipCompressionProvider(maxBytes));
            options.EnableDetailedErrors = false;
        });

        var url = Url(builder.Configuration);
        int? grpcPort = url is null ? null : BindingAddress.Parse(url).Port;
        if (url is not null)
        {
            var urls = builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey) ?? OtlpOptions.DefaultUrl;
            builder.WebHost.UseUrls([.. urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), url]);
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen =>
        {
            var services = listen.ApplicationServices;
            var detector = new MisdirectedProtocolDetector(
                services.GetRequiredService<CollectorMetrics>(),
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MisdirectedProtocolDetector)),
                grpcPort);
            if (grpcPort is { } port && listen.IPEndPoint?.Port == port)
            {
                // Prior-knowledge HTTP/2 (h2c), which is what OTLP/gRPC exporters speak without TLS.
                listen.Protocols = HttpProtocols.Http2;
                listen.Use(detector.OnGrpcListener);
            }
            else
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.Use(detector.OnHttpListener);
            }
        }));
        return builder;
    }

    /// <summary>Maps the three OTLP/gRPC services.</summary>
    public static IEndpointRouteBuilder MapOtlpGrpcReceiver(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGrpcService<OtlpGrpcTraceService>().Add(OtlpGrpcRefusals.Observe);
        endpoints.MapGrpcService<OtlpGrpcMetricsService>().Add(OtlpGrpcRefusals.Observe);
        endpoints.MapGrpcService<OtlpGrpcLogsService>().Add(OtlpGrpcRefusals.Observe);
        return endpoints;
    }
}
