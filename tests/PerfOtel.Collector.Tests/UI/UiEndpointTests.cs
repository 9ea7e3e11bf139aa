using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Exposure.Pages;
using PerfOtel.Collector.Security;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Collector.Tests.Security;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.UI;

/// <summary>
/// The pages' sign-in (an HttpOnly, SameSite=Strict cookie the REST API does not accept), their off-switch, their
/// configuration check and their Grafana links, without a browser.
/// </summary>
public sealed class UiEndpointTests
{
    private static readonly WebApplicationFactoryClientOptions NoRedirects = new() { AllowAutoRedirect = false, HandleCookies = false };

    [Fact]
    public async Task SignIn_SetsAStrictHttpOnlyCookie_ThatThePagesAcceptAndTheRestApiDoesNot()
    {
        await using var collector = new CollectorFactory(TestKeys.Settings());
        using var client = collector.CreateClient(NoRedirects);

        using var signIn = await client.PostAsync(new Uri("/ui/sign-in", UriKind.Relative),
            new FormUrlEncodedContent([new("key", TestKeys.ReadA)]));

        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        Assert.Equal("/ui/", signIn.Headers.Location?.OriginalString);
        var cookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith(UiSession.CookieName + "=", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/ui/", cookie, StringComparison.OrdinalIgnoreCase);
        var pair = cookie.Split(';')[0];

        using var page = new HttpRequestMessage(HttpMethod.Get, "/ui/");
        page.Headers.Add("Cookie", pair);
        using var pageResponse = await client.SendAsync(page);
        Assert.Equal(HttpStatusCode.OK, pageResponse.StatusCode);
        var html = await pageResponse.Content.ReadAsStringAsync();
        Assert.Contains(TestKeys.TenantA, html, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", pageResponse.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);

        using var rest = new HttpRequestMessage(HttpMethod.Get, "/api/v1/health");
        rest.Headers.Add("Cookie", pair);
        using var restResponse = await client.SendAsync(rest);
        Assert.Equal(HttpStatusCode.Unauthorized, restResponse.StatusCode);
    }

    [Fact]
    public async Task SignIn_RefusesKeysThatMayNotRead_AndFormsFromOtherSites()
    {
        await using var collector = new CollectorFactory(TestKeys.Settings());
        using var client = collector.CreateClient(NoRedirects);

        using var ingest = await client.PostAsync(new Uri("/ui/sign-in", UriKind.Relative), new FormUrlEncodedContent([new("key", TestKeys.IngestA)]));
        using var unknown = await client.PostAsync(new Uri("/ui/sign-in", UriKind.Relative), new FormUrlEncodedContent([new("key", TestKeys.Unknown)]));
        using var crossSite = new HttpRequestMessage(HttpMethod.Post, "/ui/sign-in") { Content = new FormUrlEncodedContent([new("key", TestKeys.ReadA)]) };
        crossSite.Headers.Add("Origin", "https://elsewhere.example");
        using var crossSiteResponse = await client.SendAsync(crossSite);

        Assert.Equal(HttpStatusCode.Unauthorized, ingest.StatusCode);
        Assert.Contains("ingest role", await ingest.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.False(ingest.Headers.Contains("Set-Cookie") || unknown.Headers.Contains("Set-Cookie"));
        Assert.Equal(HttpStatusCode.Forbidden, crossSiteResponse.StatusCode);
        Assert.False(crossSiteResponse.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task PagesWithoutAKey_AnswerTheSignInForm()
    {
        await using var collector = new CollectorFactory(TestKeys.Settings());
        using var client = collector.CreateClient(NoRedirects);

        using var response = await client.GetAsync(new Uri("/ui/models", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<form class=\"signin\" method=\"post\" action=\"/ui/sign-in\">", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UiEnabledFalse_MapsNoPage()
    {
        await using var collector = new CollectorFactory(new() { ["Ui:Enabled"] = "false" });
        using var client = collector.CreateClient(NoRedirects);

        using var overview = await client.GetAsync(new Uri("/ui/", UriKind.Relative));
        using var signIn = await client.GetAsync(new Uri("/ui/sign-in", UriKind.Relative));
        using var api = await client.GetAsync(new Uri("/api/v1/health", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, overview.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, signIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
    }

    [Theory]
    [InlineData("grafana.local:3000")]
    [InlineData("ftp://grafana.local")]
    [InlineData("http://grafana.local/?orgId=1")]
    public void AnInvalidGrafanaUrl_StopsTheStart_NamingTheSetting(string url)
    {
        using var collector = new CollectorFactory(new() { ["Ui:GrafanaUrl"] = url });

        var error = Assert.Throws<OptionsValidationException>(() => collector.CreateClient());

        Assert.Contains("Ui:GrafanaUrl", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryLinkedDashboard_ExistsInDashboardsGrafana()
    {
        var uids = Directory.GetFiles(RepoPaths.Combine("dashboards", "grafana"), "*.json")
            .Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement)
            .Where(d => d.TryGetProperty("uid", out _))
            .Select(d => d.GetProperty("uid").GetString())
            .ToHashSet();

        foreach (var uid in GrafanaDashboards.All)
        {
            Assert.True(uids.Contains(uid), $"the pages link to dashboard '{uid}', which dashboards/grafana does not have");
        }
    }

    [Fact]
    public async Task PagesAreServerRenderedHtml_WithoutScript()
    {
        await using var collector = new CollectorFactory();
        using var client = collector.CreateClient(NoRedirects);

        foreach (var path in new[] { "/ui/", "/ui/models", "/ui/experiments" })
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            var html = await response.Content.ReadAsStringAsync();

            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {html}");
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
            Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        }

        using var badWindow = await client.GetAsync(new Uri("/ui/?window=3w", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, badWindow.StatusCode);
        Assert.Contains("window must be one of", await badWindow.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var unknown = await client.GetAsync(new Uri("/ui/?windw=1h", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
    }
}
