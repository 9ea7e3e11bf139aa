using System.Globalization;
using System.Text.Json;
using OpenQA.Selenium;
using PerfOtel.Collector.Tests.Security;

namespace PerfOtel.Collector.Tests.UI;

/// <summary>
/// The /ui/ pages in a real browser (headless Chromium): each loads without console errors, shows the REST API's
/// numbers for the same data, draws the reliability diagram's points where the bins say, and shows another tenant's
/// key nothing of this tenant. A screenshot of each page goes to TestResults/ui-screenshots.
/// </summary>
[Trait("Category", "Browser")]
public sealed class UiBrowserTests(UiBrowserFixture ui) : IClassFixture<UiBrowserFixture>
{
    private const string Alpha = TestKeys.ReadA;

    [Fact]
    public async Task Overview_ShowsTheRestApisNumbers()
    {
        ui.SignIn(Alpha);
        // The month's projection moves with the clock (spend over the elapsed share of the month): the page's must lie
        // between the API's before and after the page was drawn.
        var budgetsBefore = await ui.RestAsync("/api/v1/budgets", Alpha);
        ui.Open("/ui/");
        ui.Screenshot("overview");

        var health = await ui.RestAsync("/api/v1/health", Alpha);
        var figures = ui.Browser.FindElement(By.CssSelector("section[aria-labelledby=health]"));
        AssertNumbers(figures, health, "health figures");
        Assert.Equal(health.GetProperty("status").GetString(), figures.FindElement(By.CssSelector("[data-metric=status]")).GetAttribute("data-value"));

        var agents = await ui.RestAsync("/api/v1/metrics/agents", Alpha);
        var rows = ui.Browser.FindElements(By.CssSelector("section[aria-labelledby=bands] tr[data-row]"));
        Assert.Equal(agents.GetProperty("agents").GetArrayLength(), rows.Count);
        foreach (var agent in agents.GetProperty("agents").EnumerateArray())
        {
            var name = agent.GetProperty("agent").GetString()!;
            AssertNumbers(Row(rows, name), agent, "agent " + name);
        }

        var alerts = await ui.RestAsync("/api/v1/alerts", Alpha);
        var breachRows = ui.Browser.FindElements(By.CssSelector("section[aria-labelledby=breaches] tr[data-row]"));
        Assert.NotEmpty(breachRows);
        Assert.Equal(alerts.GetProperty("alerts").GetArrayLength(), breachRows.Count);
        foreach (var breach in alerts.GetProperty("alerts").EnumerateArray())
        {
            AssertNumbers(Row(breachRows, $"{breach.GetProperty("agent").GetString()}/{breach.GetProperty("metric").GetString()}"), breach, "breach");
        }

        var budgets = await ui.RestAsync("/api/v1/budgets", Alpha);
        var budgetRows = ui.Browser.FindElements(By.CssSelector("section[aria-labelledby=budgets] tr[data-row]"));
        var periods = 0;
        foreach (var budget in budgets.GetProperty("budgets").EnumerateArray())
        {
            var scope = budget.GetProperty("agent").ValueKind == JsonValueKind.Null ? "" : budget.GetProperty("agent").GetString();
            foreach (var period in budget.GetProperty("periods").EnumerateArray())
            {
                periods++;
                var row = Row(budgetRows, $"{scope}/{period.GetProperty("period").GetString()}");
                AssertNumbers(row, period, "budget period", skip: "projectedMonthSpendUsd");
                var shown = double.Parse(row.FindElement(By.CssSelector("[data-metric=projectedMonthSpendUsd]")).GetAttribute("data-value")!, CultureInfo.InvariantCulture);
                var before = budgetsBefore.GetProperty("budgets").EnumerateArray()
                    .Single(b => b.GetProperty("agent").ToString() == budget.GetProperty("agent").ToString()).GetProperty("projectedMonthSpendUsd").GetDouble();
                var after = budget.GetProperty("projectedMonthSpendUsd").GetDouble();
                Assert.True(shown >= Math.Min(before, after) && shown <= Math.Max(before, after),
                    $"projection: the page shows {shown}, the API {before} before and {after} after");
            }
        }
        Assert.True(periods >= 2, "the fixture configures two budgets");

        // Every page links to its REST call and to the Grafana dashboard with the same data.
        var links = ui.Browser.FindElements(By.CssSelector(".sources a")).Select(a => a.GetAttribute("href")).ToList();
        Assert.Contains(links, l => l!.EndsWith("/api/v1/health?window=1h", StringComparison.Ordinal));
        Assert.Contains(links, l => l!.StartsWith("http://grafana.example:3000/d/perfotel-overview?var-tenant=" + TestKeys.TenantA, StringComparison.Ordinal));
        AssertAccessible();
    }

    [Fact]
    public async Task AgentPage_ShowsTheRestApisNumbers_AndTheReliabilityPointsSitOnTheBins()
    {
        ui.SignIn(Alpha);
        var all = await ui.RestAsync($"/api/v1/metrics/agents/{UiBrowserFixture.SteadyAgent}", Alpha);
        var windows = all.GetProperty("windows").EnumerateArray().ToList();
        var longest = windows.MaxBy(w => w.GetProperty("windowEnd").GetDateTimeOffset() - w.GetProperty("windowStart").GetDateTimeOffset());

        ui.Open($"/ui/agents/{UiBrowserFixture.SteadyAgent}");
        ui.Screenshot("agent");

        var rows = ui.Browser.FindElements(By.CssSelector("section[aria-labelledby=windows] tr[data-row]"));
        Assert.Equal(windows.Count, rows.Count);
        foreach (var window in windows)
        {
            var row = Row(rows, window.GetProperty("window").GetString()!);
            AssertNumbers(row, window, "window", skip: "calibrationError");
            AssertNumber(row.FindElement(By.CssSelector("[data-metric=calibrationError]")),
                window.GetProperty("calibration").GetProperty("expectedCalibrationError"), "ECE");
        }
        AssertNumbers(ui.Browser.FindElement(By.CssSelector("section[aria-labelledby=now]")), longest, "headline figures");

        // The reliability diagram: every circle mapped back through the SVG's axes lands on its bin's
        // (mean confidence, success rate), one circle per non-empty bin.
        var bins = longest.GetProperty("calibration").GetProperty("bins").EnumerateArray()
            .Where(b => b.GetProperty("samples").GetInt64() > 0).ToList();
        Assert.True(bins.Count == 10, $"the fixture fills all ten bins, the API has {bins.Count}");
        var svg = ui.Browser.FindElement(By.CssSelector("svg#chart-reliability"));
        var axes = Axes.Of(svg);
        var points = svg.FindElements(By.CssSelector("ellipse"))
            .Select(e => (X: axes.X(Attribute(e, "cx")), Y: axes.Y(Attribute(e, "cy"))))
            .ToList();
        Assert.Equal(bins.Count, points.Count);
        foreach (var bin in bins)
        {
            var confidence = bin.GetProperty("meanConfidence").GetDouble();
            var success = bin.GetProperty("successRate").GetDouble();
            Assert.True(points.Any(p => Math.Abs(p.X - confidence) < 0.005 && Math.Abs(p.Y - success) < 0.005),
                $"no point at ({confidence}, {success}); drawn: {string.Join(" ", points.Select(p => $"({p.X:0.###},{p.Y:0.###})"))}");
        }
        Assert.False(string.IsNullOrWhiteSpace(svg.FindElement(By.CssSelector("title")).GetAttribute("textContent")));
        Assert.Contains("samples", svg.FindElement(By.CssSelector("desc")).GetAttribute("textContent"), StringComparison.Ordinal);

        // The bin counts, as a table next to the chart.
        var binRows = ui.Browser.FindElements(By.CssSelector("section[aria-labelledby=reliability] tr[data-row]"));
        foreach (var bin in longest.GetProperty("calibration").GetProperty("bins").EnumerateArray())
        {
            AssertNumbers(Row(binRows, bin.GetProperty("bin").GetInt32().ToString(CultureInfo.InvariantCulture)), bin, "bin");
        }

        // Task types, and the worst recent runs link to their run pages.
        var taskRows = ui.Browser.FindElements(By.CssSelector("section[aria-labelledby=tasks] tr[data-row]"));
        foreach (var task in longest.GetProperty("taskTypes").EnumerateArray())
        {
            AssertNumbers(Row(taskRows, task.GetProperty("taskType").GetString()!), task, "task type");
        }
        var worst = ui.Browser.FindElements(By.CssSelector("section[aria-labelledby=worst] tr[data-row]"));
        Assert.Equal(10, worst.Count);
        Assert.Equal("failure", worst[0].FindElements(By.TagName("td"))[1].Text);
        AssertAccessible();
    }

    [Fact]
    public async Task ModelsExperimentsAndRunPages_ShowTheRestApisNumbers()
    {
        ui.SignIn(Alpha);
        var models = await ui.RestAsync("/api/v1/models", Alpha);
        ui.Open("/ui/models");
        ui.Screenshot("models");
        var modelRows = ui.Browser.FindElements(By.CssSelector("section[aria-labelledby=comparison] tr[data-row]"));
        Assert.Equal(models.GetProperty("models").GetArrayLength(), modelRows.Count);
        foreach (var model in models.GetProperty("models").EnumerateArray())
        {
            AssertNumbers(Row(modelRows, $"{model.GetProperty("provider").GetString()}/{model.GetProperty("model").GetString()}"), model, "model");
        }
        var adviceRows = ui.Browser.FindElements(By.CssSelector("section[aria-labelledby=advice] tr[data-row]"));
        Assert.Equal(models.GetProperty("recommendations").GetArrayLength(), adviceRows.Count);
        AssertAccessible();

        var experiments = await ui.RestAsync("/api/v1/experiments", Alpha);
        ui.Open("/ui/experiments");
        ui.Screenshot("experiments");
        var experiment = Assert.Single(experiments.GetProperty("experiments").EnumerateArray().ToList());
        Assert.Equal(UiBrowserFixture.Experiment, experiment.GetProperty("experiment").GetString());
        var analysis = experiment.GetProperty("analysis");
        Assert.Equal(analysis.GetProperty("verdict").GetString(),
            ui.Browser.FindElement(By.CssSelector("section[aria-labelledby=experiment-1] [data-metric=verdict]")).GetAttribute("data-value"));
        var experimentRows = ui.Browser.FindElements(By.CssSelector("section[aria-labelledby=experiment-1] tr[data-row]"));
        var metricRows = 0;
        foreach (var variant in analysis.GetProperty("variants").EnumerateArray())
        {
            var name = variant.GetProperty("variant").GetString()!;
            var row = Row(experimentRows, name);
            AssertNumbers(row, variant, "variant " + name);
            var p95 = variant.GetProperty("latencyP95");
            AssertNumber(row.FindElement(By.CssSelector("[data-metric=latencyP95]")), p95.ValueKind == JsonValueKind.Null ? p95 : p95.GetProperty("estimate"), "p95");
            foreach (var metric in variant.GetProperty("metrics").EnumerateArray())
            {
                var metricRow = Row(experimentRows, $"{name}/{metric.GetProperty("metric").GetString()}");
                AssertNumbers(metricRow, metric, "metric");
                foreach (var (shown, interval, part) in new[] { ("estimate", "estimate", "estimate"), ("lower", "estimate", "lower"), ("upper", "estimate", "upper"), ("difference", "difference", "estimate") })
                {
                    var expected = metric.GetProperty(interval);
                    AssertNumber(metricRow.FindElement(By.CssSelector($"[data-metric={shown}]")),
                        expected.ValueKind == JsonValueKind.Null ? expected : expected.GetProperty(part), $"{name} {shown}");
                }
                metricRows++;
            }
        }
        Assert.True(metricRows >= 2, "every variant's metrics are on the page");
        AssertAccessible();

        var (traceId, spanId) = ui.FailedRun;
        var run = (await ui.RestAsync($"/api/v1/invocations/{traceId}/{spanId}", Alpha)).GetProperty("invocation");
        ui.Open($"/ui/runs/{traceId}/{spanId}");
        ui.Screenshot("run");
        var steps = run.GetProperty("steps").EnumerateArray().ToList();
        var stepRows = ui.Browser.FindElements(By.CssSelector("section[aria-labelledby=timeline] tr[data-row]"));
        Assert.Equal(steps.Count, stepRows.Count);
        foreach (var step in steps)
        {
            AssertNumbers(Row(stepRows, step.GetProperty("spanId").GetString()!), step, "step", skip: "tokens");
        }
        Assert.Single(ui.Browser.FindElements(By.CssSelector("svg#chart-timeline")));
        Assert.Equal(run.GetProperty("errorCount").GetInt32(),
            int.Parse(ui.Browser.FindElement(By.CssSelector("[data-metric=errorCount]")).GetAttribute("data-value")!, CultureInfo.InvariantCulture));
        Assert.NotEmpty(ui.Browser.FindElements(By.CssSelector("section[aria-labelledby=problems] li[data-kind=error]")));
        AssertAccessible();
    }

    [Fact]
    public void AnotherTenantsKey_SeesNothingOfThisTenant()
    {
        ui.SignIn(TestKeys.ReadB);
        var (traceId, spanId) = ui.FailedRun;
        var alphaMarkers = new[] { TestKeys.TenantA, UiBrowserFixture.SteadyAgent, UiBrowserFixture.FlakyAgent, UiBrowserFixture.Experiment, "ui-model-large", traceId };
        foreach (var (page, own) in new[] { ("/ui/", TenantData.Bravo.Agent), ("/ui/models", TenantData.Bravo.Model), ("/ui/experiments", TenantData.Bravo.Experiment) })
        {
            ui.Open(page);
            var source = ui.Browser.PageSource;
            Assert.Contains(own, source, StringComparison.Ordinal);
            foreach (var marker in alphaMarkers)
            {
                Assert.False(source.Contains(marker, StringComparison.Ordinal), $"{page} showed bravo's key alpha's '{marker}'");
            }
        }
        ui.Screenshot("other-tenant-overview");

        // Alpha's agent and run do not exist for bravo; naming alpha's tenant is refused.
        foreach (var page in new[] { $"/ui/agents/{UiBrowserFixture.SteadyAgent}", $"/ui/runs/{traceId}/{spanId}", $"/ui/?tenant={TestKeys.TenantA}" })
        {
            ui.Browser.Navigate().GoToUrl(new Uri(ui.Collector.BaseAddress, page.TrimStart('/')));
            var heading = ui.Browser.FindElement(By.TagName("h1")).Text;
            Assert.True(heading is "Agent not found" or "Run not found" or "Not allowed", $"{page}: {heading}");
            Assert.DoesNotContain("ui-model-large", ui.Browser.PageSource, StringComparison.Ordinal);
        }
    }

    /// <summary>lang, landmarks, a skip link that is the first focusable element, and a text alternative on every chart.</summary>
    private void AssertAccessible()
    {
        var browser = ui.Browser;
        Assert.Equal("en", browser.FindElement(By.TagName("html")).GetAttribute("lang"));
        Assert.Single(browser.FindElements(By.TagName("main")));
        Assert.NotEmpty(browser.FindElements(By.CssSelector("header nav[aria-label]")));
        browser.FindElement(By.TagName("body")).SendKeys(Keys.Tab);
        Assert.Equal("Skip to the content", browser.SwitchTo().ActiveElement().Text);
        foreach (var svg in browser.FindElements(By.CssSelector("figure.chart svg")))
        {
            Assert.Equal("img", svg.GetAttribute("role"));
            Assert.False(string.IsNullOrWhiteSpace(svg.FindElement(By.CssSelector("desc")).GetAttribute("textContent")), "a chart without a description");
        }
    }

    private static IWebElement Row(IEnumerable<IWebElement> rows, string id) =>
        rows.FirstOrDefault(r => r.GetAttribute("data-row") == id) ?? throw new Xunit.Sdk.XunitException($"no row '{id}' on the page");

    /// <summary>Every number in <paramref name="container"/> equals the JSON property of the same name.</summary>
    private static void AssertNumbers(IWebElement container, JsonElement json, string what, string? skip = null)
    {
        var compared = 0;
        foreach (var element in container.FindElements(By.CssSelector("[data-metric]")))
        {
            var metric = element.GetAttribute("data-metric")!;
            if (metric == skip || !json.TryGetProperty(metric, out var expected)
                || expected.ValueKind is JsonValueKind.String or JsonValueKind.Object or JsonValueKind.Array)
            {
                continue;
            }
            AssertNumber(element, expected, $"{what} {metric}");
            compared++;
        }
        Assert.True(compared > 0, $"{what}: no number compared");
    }

    private static void AssertNumber(IWebElement element, JsonElement expected, string what)
    {
        var shown = element.GetAttribute("data-value");
        if (expected.ValueKind == JsonValueKind.Null)
        {
            Assert.True(string.IsNullOrEmpty(shown), $"{what}: the page shows {shown}, the API null");
            return;
        }
        Assert.True(double.TryParse(shown, NumberStyles.Float, CultureInfo.InvariantCulture, out var value), $"{what}: the page shows '{shown}', the API {expected}");
        Assert.True(value == expected.GetDouble(), $"{what}: the page shows {value}, the API {expected.GetDouble()}");
    }

    private static double Attribute(IWebElement element, string name) =>
        double.Parse(element.GetAttribute(name)!, CultureInfo.InvariantCulture);

    /// <summary>The SVG's own statement of where its axes put data values, as linear maps from pixels back to data.</summary>
    private sealed record Axes(Func<double, double> X, Func<double, double> Y)
    {
        public static Axes Of(IWebElement svg) => new(Map(svg, "x"), Map(svg, "y"));

        private static Func<double, double> Map(IWebElement svg, string axis)
        {
            var min = Attribute(svg, $"data-{axis}-min");
            var max = Attribute(svg, $"data-{axis}-max");
            var minPx = Attribute(svg, $"data-{axis}-min-px");
            var maxPx = Attribute(svg, $"data-{axis}-max-px");
            Assert.NotEqual(minPx, maxPx);
            return px => min + (px - minPx) / (maxPx - minPx) * (max - min);
        }
    }
}
