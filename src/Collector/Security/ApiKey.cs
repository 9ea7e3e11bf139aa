namespace PerfOtel.Collector.Security;

/// <summary>A configured key, validated: its hash, who holds it, the tenant it acts for (null for admin) and its role.</summary>
public sealed record ApiKey(string Name, byte[] Hash, string? Tenant, ApiRole Role);

/// <summary>
/// The authenticated caller of a request, set by the authentication middleware. Absent when authentication is off
/// (and on open routes).
/// </summary>
public sealed record ApiCaller(string KeyName, string? Tenant, ApiRole Role)
{
    public bool IsAdmin => Role == ApiRole.Admin;

    /// <summary>
    /// The tenant OTLP data must be stored under, whatever the payload says; null for an admin key, which forwards
    /// for several tenants (e.g. an OpenTelemetry Collector gateway) and keeps the payload's tenant.
    /// </summary>
    public string? IngestTenant => IsAdmin ? null : Tenant;

    public static ApiCaller? Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<ApiCaller>();
    }
}
