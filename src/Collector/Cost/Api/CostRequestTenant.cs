namespace PerfOtel.Collector.Cost.Api;

/// <summary>
/// The one place that decides which tenant a cost, budget, model or experiment request acts for: <c>?tenant=</c> when
/// given, else <c>default</c>. The API-key issue replaces this body, and every endpoint here follows.
/// </summary>
public static class CostRequestTenant
{
    /// <summary>The tenant of requests that name none.</summary>
    public const string Default = "default";

    /// <summary>The tenant a request acts for.</summary>
    public static string Resolve(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tenant = request.Query["tenant"].ToString();
        return string.IsNullOrWhiteSpace(tenant) ? Default : tenant;
    }
}
