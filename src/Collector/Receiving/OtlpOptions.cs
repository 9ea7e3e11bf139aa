using Microsoft.Extensions.Options;

namespace PerfOtel.Collector.Receiving;

/// <summary>Configuration section <c>Otlp</c>: the OTLP/gRPC and OTLP/HTTP receivers.</summary>
public sealed class OtlpOptions
{
    public const string SectionName = "Otlp";

    /// <summary>The address served when none is configured: OTLP/HTTP's default port, loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:4318";

    /// <summary>The OTLP/gRPC port when <see cref="GrpcEndpoint"/> is not set: OTLP's default.</summary>
    public const int DefaultGrpcPort = 4317;

    /// <summary>
    /// The OTLP/gRPC listener (HTTP/2 without TLS), e.g. <c>http://0.0.0.0:4317</c>. Unset: port 4317 on the host of
    /// the first URL the collector serves (so <c>http://127.0.0.1:4317</c> by default). Empty or <c>none</c>: no gRPC.
    /// </summary>
    public string? GrpcEndpoint { get; set; }

    /// <summary>Largest request body after decompression (the OTLP default of 20 MiB); larger ones get 413.</summary>
    public long MaxRequestBytes { get; set; } = 20L * 1024 * 1024;

    /// <summary>
    /// Requests being read and decoded at once; more get 429 at once. With <see cref="MaxRequestBytes"/> it bounds the
    /// memory held by bodies that are not yet in the ingest queue.
    /// </summary>
    public int MaxConcurrentRequests { get; set; } = 32;

    /// <summary>
    /// Optional pricing catalog file (the format of the embedded one) whose prices override the embedded catalog when
    /// the collector prices provider calls that arrive without <c>perfotel.cost.usd</c>.
    /// </summary>
    public string? PricingOverridesPath { get; set; }

    /// <summary>
    /// Span attributes kept on invocation records as JSON (exact keys, or prefixes ending in <c>*</c>). Empty by
    /// default: nothing beyond the mapped fields is stored. Still read for existing configurations; new ones use
    /// <c>Privacy:AttributeAllowlist</c> (the two are joined).
    /// </summary>
    public IList<string> AttributeAllowlist { get; } = [];
}

internal sealed class OtlpOptionsValidator : IValidateOptions<OtlpOptions>
{
    public ValidateOptionsResult Validate(string? name, OtlpOptions options)
    {
        var failures = new List<string>();
        if (options.MaxRequestBytes is < 1024 or > 1024L * 1024 * 1024)
        {
            failures.Add($"Otlp:MaxRequestBytes must be between 1024 and 1073741824 (1 GiB) (was {options.MaxRequestBytes}).");
        }

        if (Grpc.OtlpGrpcListener.Invalid(options.GrpcEndpoint) is { } grpcProblem)
        {
            failures.Add($"Otlp:GrpcEndpoint {grpcProblem} (was '{options.GrpcEndpoint}').");
        }

        if (options.MaxConcurrentRequests < 1)
        {
            failures.Add($"Otlp:MaxConcurrentRequests must be at least 1 (was {options.MaxConcurrentRequests}).");
        }

        foreach (var entry in options.AttributeAllowlist)
        {
            if (!Privacy.AllowlistEntry.IsValid(entry))
            {
                failures.Add($"Otlp:AttributeAllowlist entry '{entry}' must be an attribute key or a prefix ending in '*' (and not '*' alone).");
            }
        }

        if (!string.IsNullOrEmpty(options.PricingOverridesPath) && !File.Exists(options.PricingOverridesPath))
        {
            failures.Add($"Otlp:PricingOverridesPath names '{options.PricingOverridesPath}', which does not exist.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
