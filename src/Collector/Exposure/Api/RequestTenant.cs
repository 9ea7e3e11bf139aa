using PerfOtel.Collector.Security;

namespace PerfOtel.Collector.Exposure.Api;

/// <summary>
/// The one place that decides which tenant a REST request (analytics, cost, feedback, export) acts for.
/// Authentication off: <c>?tenant=</c>, else <c>default</c>. On: a tenant key acts for its own tenant only (naming
/// another is refused with 403 by <see cref="Refusal"/> before the endpoint runs); an admin key names any tenant with
/// <c>?tenant=</c>, else <c>default</c>.
/// </summary>
public static class RequestTenant
{
    public const string Default = "default";
    public const string QueryName = "tenant";

    public static string Resolve(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (ApiCaller.Of(context) is { IsAdmin: false, Tenant: { } own })
        {
            return own;
        }

        var named = context.Request.Query[QueryName].ToString();
        return string.IsNullOrWhiteSpace(named) ? Default : named;
    }

    /// <summary>Why the authenticated caller may not act for the tenant the request names, or null when it may.</summary>
    public static string? Refusal(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (ApiCaller.Of(context) is not { IsAdmin: false, Tenant: { } own })
        {
            return null;
        }

        foreach (var named in context.Request.Query[QueryName])
        {
            if (!string.Equals(named, own, StringComparison.Ordinal))
            {
                return $"the API key acts for its own tenant only and may not name tenant '{named}'";
            }
        }

        return null;
    }
}
