namespace PerfOtel.Collector.Hosting;

/// <summary>
/// Where the collector's configuration comes from, in increasing precedence: appsettings*.json, the optional file named
/// by PERFOTEL_CONFIG (the Helm chart mounts one), environment variables prefixed PERFOTEL__ (PERFOTEL__Storage__Provider
/// is Storage:Provider), then the command line (--Storage:Provider=postgres).
/// </summary>
public static class CollectorConfiguration
{
    /// <summary>
    /// Defaults below every configured source: ASP.NET Core's hosting and routing write two Information lines for every
    /// request, which at OTLP rates is most of the log and a measurable share of the CPU. Quiet unless asked for
    /// (<c>Logging:LogLevel:Microsoft.AspNetCore=Information</c> in any source brings them back).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string?> Defaults = new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        // Grpc.AspNetCore writes an Information line for each call that ends with an error status (every throttled
        // or undecodable export); those are summarised by RejectionSummary instead. Its Error lines still come through.
        ["Logging:LogLevel:Grpc"] = "Warning",
    };

    public static WebApplicationBuilder AddPerfOtelCollectorConfiguration(this WebApplicationBuilder builder, string[] args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ((IConfigurationBuilder)builder.Configuration).Sources.Insert(0,
            new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = Defaults });
        var file = Environment.GetEnvironmentVariable("PERFOTEL_CONFIG");
        if (!string.IsNullOrEmpty(file))
        {
            if (!File.Exists(file))
            {
                throw new InvalidOperationException($"PERFOTEL_CONFIG names '{file}', which does not exist.");
            }
            builder.Configuration.AddJsonFile(file, optional: false, reloadOnChange: false);
        }
        builder.Configuration.AddEnvironmentVariables("PERFOTEL__");
        builder.Configuration.AddCommandLine(args);

        // Kestrel's own default is :5000 on localhost; ours is OTLP/HTTP's 4318 unless urls are given any usual way.
        var urls = builder.Configuration["urls"] ?? builder.Configuration["ASPNETCORE_URLS"];
        if (string.IsNullOrEmpty(urls) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_URLS")))
        {
            builder.WebHost.UseUrls(Receiving.OtlpOptions.DefaultUrl);
        }
        return builder;
    }
}
