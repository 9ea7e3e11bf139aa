using System.Drawing;
using System.Net.Http.Headers;
using Google.Protobuf;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenTelemetry.Proto.Trace.V1;
using PerfOtel.Collector.Tests.Security;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.UI;

/// <summary>
/// The collector as its own process with authentication on, tenant alpha's agents (a steady one with confidences in
/// every bin, a flaky one that breaches), a budget and an experiment, tenant bravo's own run, and one headless Chromium
/// (Debian's, through Debian's chromedriver) shared by the browser tests.
/// </summary>
public sealed class UiBrowserFixture : IAsyncLifetime
{
    public const string SteadyAgent = "ui-agent-steady";
    public const string FlakyAgent = "ui-agent-flaky";
    public const string Experiment = "ui-experiment";
    public const int SteadyRuns = 60;
    public const int FlakyRuns = 12;

    private readonly string directory = Directory.CreateTempSubdirectory("perfotel-ui-").FullName;

    public CollectorProcess Collector { get; private set; } = null!;

    public ChromeDriver Browser { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>A failed run of the steady agent, with a failed step: the run page's subject.</summary>
    public (string TraceId, string SpanId) FailedRun { get; private set; }

    public static string ScreenshotDirectory =>
        Environment.GetEnvironmentVariable("PERFOTEL_UI_SCREENSHOTS")
        ?? RepoPaths.Combine("tests", "PerfOtel.Collector.Tests", "TestResults", "ui-screenshots");

    public async Task InitializeAsync()
    {
        var settings = TestKeys.Settings().ToDictionary(p => p.Key, p => p.Value!);
        settings[$"Budgets:Tenants:{TestKeys.TenantA}:DailyUsd"] = "1";
        settings[$"Budgets:Tenants:{TestKeys.TenantA}:Agents:{SteadyAgent}:MonthlyUsd"] = "50";
        settings["Ui:GrafanaUrl"] = "http://grafana.example:3000";
        Collector = await CollectorProcess.StartAsync(directory, settings);
        Http = new HttpClient { BaseAddress = Collector.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

        await SendAsync(AlphaRuns(), TestKeys.IngestA);
        await SendAsync(TenantData.Bravo.Run(claimedTenant: null), TestKeys.IngestB);

        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--window-size=1280,1000", "--no-first-run", "--disable-extensions", "--lang=en-US");
        options.SetLoggingPreference(LogType.Browser, OpenQA.Selenium.LogLevel.All);
        Browser = new ChromeDriver(service, options, TimeSpan.FromSeconds(120));
        Browser.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(60);
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    public async Task DisposeAsync()
    {
        Browser?.Quit();
        Browser?.Dispose();
        Http?.Dispose();
        if (Collector is not null)
        {
            await Collector.DisposeAsync();
        }
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>Signs the browser in through the sign-in form, as a person would.</summary>
    public void SignIn(string key)
    {
        Browser.Navigate().GoToUrl(new Uri(Collector.BaseAddress, "ui/sign-in"));
        var form = Browser.FindElement(By.CssSelector("form.signin"));
        var field = form.FindElement(By.Id("key"));
        field.Clear();
        field.SendKeys(key);
        form.FindElement(By.CssSelector("button[type=submit]")).Click();
        // The click returns before the redirect may have landed: wait (bounded) for the overview.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(Browser.Url.EndsWith("/ui/", StringComparison.Ordinal) && Browser.FindElements(By.CssSelector("main h1")).Any(h => h.Text == "Overview"))
               && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(100);
        }
        Assert.True(Browser.Url.EndsWith("/ui/", StringComparison.Ordinal),
            $"signing in left the browser at {Browser.Url}: {Browser.FindElement(By.TagName("main")).Text}");
        // The 401 of a signed-out page is logged by the browser: start every page's check from a clean log.
        _ = Browser.Manage().Logs.GetLog(LogType.Browser);
    }

    /// <summary>Opens a page and fails on any console error; returns nothing, the browser holds the page.</summary>
    public void Open(string path)
    {
        Browser.Navigate().GoToUrl(new Uri(Collector.BaseAddress, path.TrimStart('/')));
        var errors = Browser.Manage().Logs.GetLog(LogType.Browser)
            .Where(e => e.Level >= OpenQA.Selenium.LogLevel.Warning)
            .Select(e => $"{e.Level}: {e.Message}")
            .ToList();
        Assert.True(errors.Count == 0, $"{path}: browser console: {string.Join(" | ", errors)}");
    }

    /// <summary>A screenshot of the whole page (window stretched to the page's height), for a person to look at.</summary>
    public void Screenshot(string name)
    {
        var height = Convert.ToInt32(Browser.ExecuteScript("return document.documentElement.scrollHeight;"), System.Globalization.CultureInfo.InvariantCulture);
        Browser.Manage().Window.Size = new Size(1280, Math.Clamp(height + 140, 600, 8000));
        Browser.GetScreenshot().SaveAsFile(Path.Combine(ScreenshotDirectory, name + ".png"));
        Browser.Manage().Window.Size = new Size(1280, 1000);
    }

    public async Task<System.Text.Json.JsonElement> RestAsync(string path, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path.TrimStart('/'));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return System.Text.Json.JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task SendAsync(IMessage request, string key)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "v1/traces") { Content = Protobuf(request) };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await Http.SendAsync(message);
        Assert.True(response.IsSuccessStatusCode, $"POST /v1/traces: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private OpenTelemetry.Proto.Collector.Trace.V1.ExportTraceServiceRequest AlphaRuns()
    {
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var spans = new List<Span>();
        for (var i = 0; i < SteadyRuns + FlakyRuns; i++)
        {
            var steady = i < SteadyRuns;
            var agent = steady ? SteadyAgent : FlakyAgent;
            var bin = i % 10;
            var confidence = 0.05 + 0.1 * bin;
            // Six runs per bin; 1 + bin / 2 of them succeed, so the bins' observed rates differ (1/6 up to 5/6).
            var success = steady ? i / 10 < 1 + bin / 2 : i % 6 == 0;
            var traceId = TraceId(0x2000 + i);
            var invocationId = SpanId((0x2000 + i) * 16);
            var start = now - (ulong)(SteadyRuns + FlakyRuns - i + 10) * 1_000_000_000UL;
            var duration = steady ? 0.8 + 0.05 * bin : 9.0;
            var invocation = Span($"invoke_agent {agent}", traceId, invocationId, attributes:
            [
                (GenAiAttributes.OperationName, GenAiOperations.InvokeAgent),
                (GenAiAttributes.AgentName, agent),
                (PerfOtelAttributes.TaskId, $"ui-task-{i}"),
                (PerfOtelAttributes.TaskType, i % 3 == 0 ? "triage" : "answer"),
                (PerfOtelAttributes.Outcome, success ? Outcomes.Success : Outcomes.Failure),
                (PerfOtelAttributes.Confidence, confidence),
                (PerfOtelAttributes.Experiment, Experiment),
                (PerfOtelAttributes.Variant, i % 2 == 0 ? "control" : "treatment"),
            ]);
            var model = i % 2 == 0 ? "ui-model-large" : "ui-model-small";
            var chat = Span($"chat {model}", traceId, SpanId((0x2000 + i) * 16 + 1), invocationId, attributes:
            [
                (GenAiAttributes.OperationName, GenAiOperations.Chat),
                (GenAiAttributes.ProviderName, "openai"),
                (GenAiAttributes.RequestModel, model),
                (GenAiAttributes.UsageInputTokens, 400 + 10 * bin),
                (GenAiAttributes.UsageOutputTokens, 80),
                (PerfOtelAttributes.CostUsd, i % 2 == 0 ? 0.02 : 0.004),
            ]);
            var tool = Span("execute_tool search", traceId, SpanId((0x2000 + i) * 16 + 2), invocationId, attributes:
            [
                (GenAiAttributes.OperationName, GenAiOperations.ExecuteTool),
                (GenAiAttributes.ToolName, "search"),
            ]);
            if (!success)
            {
                tool.Attributes.Add(Attr(GenAiAttributes.ErrorType, "timeout"));
                tool.Status = new Status { Code = Status.Types.StatusCode.Error, Message = "search timed out" };
                if (steady && FailedRun == default)
                {
                    FailedRun = (Hex(traceId), Hex(invocationId));
                }
            }
            invocation.StartTimeUnixNano = start;
            invocation.EndTimeUnixNano = start + (ulong)(duration * 1e9);
            chat.StartTimeUnixNano = start + 50_000_000;
            chat.EndTimeUnixNano = start + (ulong)(duration * 0.55 * 1e9);
            tool.StartTimeUnixNano = start + (ulong)(duration * 0.6 * 1e9);
            tool.EndTimeUnixNano = start + (ulong)(duration * 0.9 * 1e9);
            spans.AddRange([invocation, chat, tool]);
        }
        return Traces(spans);
    }
}
