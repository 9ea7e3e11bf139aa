namespace PerfOtel.Collector.Security;

/// <summary>
/// How a browser presents an API key to the pages under <c>/ui/</c>: the sign-in form (<see cref="SignInRoute"/>) checks
/// the key and stores it in an HttpOnly, SameSite=Strict cookie scoped to <c>/ui/</c>, which the authentication
/// middleware reads for those pages only (REST clients keep sending <c>Authorization: Bearer</c>). Scripts cannot read
/// the cookie, other sites cannot make the browser send it, and the REST API never accepts it, so a cross-site request
/// cannot use it against the API.
/// </summary>
internal static class UiSession
{
    public const string Prefix = "/ui/";
    public const string SignInRoute = "/ui/sign-in";
    public const string SignOutRoute = "/ui/sign-out";
    public const string CookieName = "perfotel_ui_key";

    /// <summary>Longest key the cookie carries; longer values are not keys this collector issued.</summary>
    private const int MaxKeyLength = 512;

    public static string? KeyOf(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Cookies.TryGetValue(CookieName, out var value) && !string.IsNullOrWhiteSpace(value) && value.Length <= MaxKeyLength
            ? value.Trim()
            : null;
    }

    public static void Remember(HttpContext context, string key)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Cookies.Append(CookieName, key, Options(context.Request));
    }

    public static void Forget(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Cookies.Delete(CookieName, Options(response.HttpContext.Request));
    }

    // A session cookie (no expiry): closing the browser signs out. Secure whenever the page itself came over HTTPS.
    private static CookieOptions Options(HttpRequest request) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = request.IsHttps,
        Path = Prefix,
        IsEssential = true,
    };
}
