using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Security;

namespace PerfOtel.Collector.Exposure.Pages;

/// <summary>
/// The read-only pages under <c>/ui/</c>: server-rendered HTML that needs no script, with SVG charts, reading the same
/// answers as the REST API (<see cref="AnalyticsQueries"/>, <see cref="CostEndpoints"/>, <see cref="RunEndpoints"/>).
/// Same port, same API keys and tenant rules as the REST reads (read role); see docs/collector/ui.md.
/// </summary>
public static class UiEndpoints
{
    public const string OverviewRoute = "/ui/";
    public const string AgentRoute = "/ui/agents/{agent}";
    public const string ModelsRoute = "/ui/models";
    public const string ExperimentsRoute = "/ui/experiments";
    public const string RunRoute = "/ui/runs/{traceId}/{spanId}";

    /// <summary>The runs of one trace: where a Grafana exemplar's trace id lands (one run redirects to its page).</summary>
    public const string TraceRoute = "/ui/runs/{traceId}";

    private const string HtmlMediaType = "text/html; charset=utf-8";

    /// <summary>Registers the pages' options (section <c>Ui</c>), validated at start-up.</summary>
    public static IServiceCollection AddPerfOtelUi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<UiOptions>().Bind(configuration.GetSection(UiOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<UiOptions>, UiOptionsValidator>());
        return services;
    }

    /// <summary>Maps the pages unless <c>Ui:Enabled</c> is false.</summary>
    public static IEndpointRouteBuilder MapPerfOtelUi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (!endpoints.ServiceProvider.GetRequiredService<IOptions<UiOptions>>().Value.Enabled)
        {
            return endpoints;
        }
        endpoints.MapGet(OverviewRoute, OverviewPage.HandleAsync).ExcludeFromDescription();
        endpoints.MapGet(AgentRoute, AgentPage.HandleAsync).ExcludeFromDescription();
        endpoints.MapGet(ModelsRoute, ModelsPage.Handle).ExcludeFromDescription();
        endpoints.MapGet(ExperimentsRoute, ExperimentsPage.Handle).ExcludeFromDescription();
        endpoints.MapGet(RunRoute, RunPage.HandleAsync).ExcludeFromDescription();
        endpoints.MapGet(TraceRoute, TracePage.HandleAsync).ExcludeFromDescription();
        endpoints.MapGet(UiSession.SignInRoute, SignInForm).ExcludeFromDescription();
        endpoints.MapPost(UiSession.SignInRoute, SignInAsync).ExcludeFromDescription();
        endpoints.MapPost(UiSession.SignOutRoute, SignOut).ExcludeFromDescription();
        return endpoints;
    }

    /// <summary>An HTML answer with the headers every page carries: no script may run, nothing is cached or framed.</summary>
    internal static IResult Html(HttpContext context, string html, int status = StatusCodes.Status200OK)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-store";
        // same-origin: the Grafana links (which carry the tenant) get no referrer, and form posts keep their Origin.
        headers["Referrer-Policy"] = "same-origin";
        return Results.Content(html, HtmlMediaType, System.Text.Encoding.UTF8, status);
    }

    /// <summary>A page that only says what went wrong (bad parameter, unknown agent or run).</summary>
    internal static IResult Problem(HttpContext context, PageScope? scope, int status, string title, string message)
    {
        var page = new PageWriter(title, scope?.Tenant ?? RequestTenant.Resolve(context), scope?.Carry ?? string.Empty, scope?.SignedIn ?? false);
        page.Raw("<p class=\"error\" role=\"alert\">").Text(message).Raw("</p>");
        page.Raw("<p>").Link("/ui/" + (scope?.Carry ?? string.Empty), "Back to the overview").Raw("</p>");
        return Html(context, page.Finish(DateTimeOffset.UtcNow), status);
    }

    private static IResult SignInForm(HttpContext context, ApiKeyRegistry keys) =>
        Html(context, SignInPage(keys.Enabled, null));

    private static async Task<IResult> SignInAsync(HttpContext context, ApiKeyRegistry keys)
    {
        if (CrossSite(context.Request))
        {
            return Html(context, SignInPage(keys.Enabled, "The sign-in form was posted from another site."), StatusCodes.Status403Forbidden);
        }
        if (!keys.Enabled)
        {
            return Results.Redirect(OverviewRoute, permanent: false, preserveMethod: false);
        }
        if (!context.Request.HasFormContentType)
        {
            return Html(context, SignInPage(true, "Send the form (application/x-www-form-urlencoded) with the field 'key'."),
                StatusCodes.Status400BadRequest);
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        var presented = form["key"].ToString().Trim();
        var key = presented.Length is > 0 and <= 512 ? keys.Find(presented) : null;
        if (key is null || !key.Role.Grants(ApiRole.Read))
        {
            return Html(context, SignInPage(true, key is null
                ? "That API key is not valid."
                : $"That API key has the {key.Role.Name()} role; the pages need a read or admin key."), StatusCodes.Status401Unauthorized);
        }
        UiSession.Remember(context, presented);
        context.Response.Headers.Location = OverviewRoute;
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }

    private static IResult SignOut(HttpContext context)
    {
        if (CrossSite(context.Request))
        {
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }
        UiSession.Forget(context.Response);
        context.Response.Headers.Location = UiSession.SignInRoute;
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }

    /// <summary>A form posted from another origin (login CSRF); browsers send Origin on every POST.</summary>
    private static bool CrossSite(HttpRequest request) =>
        request.Headers.Origin.ToString() is { Length: > 0 } origin
        && !(Uri.TryCreate(origin, UriKind.Absolute, out var uri)
             && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));

    internal static string SignInPage(bool authEnabled, string? error)
    {
        var page = new PageWriter("Sign in", "–", string.Empty, signedIn: false);
        if (!authEnabled)
        {
            page.Paragraph("Authentication is off (no Auth:Keys configured): the pages need no key.").Raw("<p>")
                .Link(OverviewRoute, "Go to the overview").Raw("</p>");
            return page.Finish(DateTimeOffset.UtcNow);
        }
        if (error is not null)
        {
            page.Raw("<p class=\"error\" role=\"alert\">").Text(error).Raw("</p>");
        }
        page.Paragraph("Enter an API key with the read role (or admin). The pages show that key's tenant only. The key is kept in an " +
                       "HttpOnly, SameSite=Strict cookie for the pages under /ui/ until you sign out or close the browser.")
            .Raw("<form class=\"signin\" method=\"post\" action=\"").Raw(UiSession.SignInRoute).Raw("\">")
            .Raw("<label for=\"key\">API key</label><input id=\"key\" name=\"key\" type=\"password\" autocomplete=\"current-password\" required>")
            .Raw("<br><button type=\"submit\">Sign in</button></form>")
            .Paragraph("Scripts and API clients send the key as 'Authorization: Bearer <key>' instead.", "sources");
        return page.Finish(DateTimeOffset.UtcNow);
    }
}

/// <summary>Refusals of the authentication middleware on the pages, as a page (with the sign-in form on 401).</summary>
internal static class UiRefusal
{
    public static Task WriteAsync(HttpContext context, int status, string message)
    {
        var html = status == StatusCodes.Status401Unauthorized
            ? UiEndpoints.SignInPage(authEnabled: true, message)
            : RefusedPage(message);
        return UiEndpoints.Html(context, html, status).ExecuteAsync(context);
    }

    private static string RefusedPage(string message)
    {
        var page = new PageWriter("Not allowed", "–", string.Empty, signedIn: false);
        page.Raw("<p class=\"error\" role=\"alert\">").Text(message).Raw("</p><p>").Link(UiSession.SignInRoute, "Sign in with another key").Raw("</p>");
        return page.Finish(DateTimeOffset.UtcNow);
    }
}

/// <summary>What a page request acts on: the tenant (as the REST API decides it), the window and the query to carry.</summary>
internal sealed record PageScope(string Tenant, int Window, string WindowName, string Carry, bool SignedIn, UiOptions Options)
{
    /// <summary>
    /// Reads <c>tenant</c> and <c>window</c> (the only parameters the pages take, besides <paramref name="extra"/>);
    /// null with the error page when a parameter is unknown or invalid. <paramref name="defaultWindow"/> is used when
    /// none is named (by default the first configured window, as in the REST API). With <paramref name="ignoreWindow"/>,
    /// the page reads <c>window</c> itself (the model comparison has windows of its own) and it is not carried.
    /// </summary>
    public static PageScope? Read(HttpContext context, RollingWindows windows, UiOptions options, out IResult error,
        int defaultWindow = 0, string[]? extra = null, bool ignoreWindow = false)
    {
        var query = context.Request.Query;
        error = Results.Empty;
        foreach (var name in query.Keys)
        {
            if (name is not (RequestTenant.QueryName or "window") && (extra is null || !extra.Contains(name)))
            {
                error = UiEndpoints.Problem(context, null, StatusCodes.Status400BadRequest, "Bad request",
                    $"Unknown query parameter '{name}'; the pages accept tenant and window.");
                return null;
            }
        }
        string? tenantGiven = query[RequestTenant.QueryName];
        if (tenantGiven is { Length: 0 or > 256 })
        {
            error = UiEndpoints.Problem(context, null, StatusCodes.Status400BadRequest, "Bad request", "tenant must be 1 to 256 characters when given.");
            return null;
        }
        var window = defaultWindow;
        string? windowGiven = ignoreWindow ? null : (string?)query["window"];
        if (windowGiven is not null && windows.WindowIndexOf(windowGiven) is var index && index < 0)
        {
            error = UiEndpoints.Problem(context, null, StatusCodes.Status400BadRequest, "Bad request",
                $"window must be one of {string.Join(", ", windows.Windows.Select(w => w.Name))}, was '{windowGiven}'.");
            return null;
        }
        if (windowGiven is not null)
        {
            window = windows.WindowIndexOf(windowGiven);
        }
        var carry = new List<string>();
        if (tenantGiven is not null)
        {
            carry.Add("tenant=" + Uri.EscapeDataString(tenantGiven));
        }
        if (windowGiven is not null)
        {
            carry.Add("window=" + Uri.EscapeDataString(windowGiven));
        }
        var signedIn = UiSession.KeyOf(context.Request) is not null && ApiCaller.Of(context) is not null;
        return new PageScope(RequestTenant.Resolve(context), window, windows.Windows[window].Name,
            carry.Count == 0 ? string.Empty : "?" + string.Join('&', carry), signedIn, options);
    }

    /// <summary>The REST path with this scope's tenant (when named) and the given parameters.</summary>
    public string Rest(string path, params (string Name, string? Value)[] parameters)
    {
        var query = parameters.Where(p => p.Value is not null).Select(p => p.Name + "=" + Uri.EscapeDataString(p.Value!)).ToList();
        if (Carry.Contains("tenant=", StringComparison.Ordinal))
        {
            query.Insert(0, Carry.TrimStart('?').Split('&').First(p => p.StartsWith("tenant=", StringComparison.Ordinal)));
        }
        return query.Count == 0 ? path : path + "?" + string.Join('&', query);
    }

    /// <summary>A page link that keeps the tenant and window.</summary>
    public string Page(string path) => path + Carry;

    public string Grafana(string uid, string? agent = null, DateTimeOffset? from = null, DateTimeOffset? to = null, string? experiment = null) =>
        GrafanaDashboards.Link(Options.GrafanaUrl, uid, Tenant, agent, from, to, experiment);
}
