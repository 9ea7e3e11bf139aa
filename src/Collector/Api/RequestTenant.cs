namespace PerfOtel.Collector.Api;

/// <summary>
/// The one place that decides which tenant a REST request acts for. Until API keys exist every request is the
/// <c>default</c> tenant; the API-key issue replaces this body and every endpoint follows.
/// </summary>
public static class RequestTenant
{
    public const string Default = "default";

    public static string Resolve(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Default;
    }
}
