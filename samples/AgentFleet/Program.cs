using System.CommandLine;
using System.Globalization;
using AgentFleet;
using AgentFleet.Feedback;
using AgentFleet.Fleet;

var endpoint = new Option<Uri?>("--endpoint")
{
    Description = "OTLP/HTTP base URL (e.g. http://127.0.0.1:4318); traces go to {endpoint}/v1/traces, metrics to {endpoint}/v1/metrics, feedback to {endpoint}/api/v1/feedback.",
    CustomParser = result => FleetOptionParsing.ParseEndpoint(result),
};
var duration = new Option<double>("--duration") { Description = "How long to start invocations, in seconds.", DefaultValueFactory = _ => 30 };
var rate = new Option<double>("--rate") { Description = "Invocations started per second.", DefaultValueFactory = _ => 5 };
var seed = new Option<int>("--seed") { Description = "Seed of every random choice: the same seed gives the same fleet.", DefaultValueFactory = _ => 42 };
var tenant = new Option<string>("--tenant") { Description = "Tenant of every invocation (perfotel.tenant).", DefaultValueFactory = _ => "default" };
var prometheusPort = new Option<int?>("--prometheus-port") { Description = "Also serve the metrics for Prometheus on http://127.0.0.1:PORT/metrics." };
var feedbackRatio = new Option<double>("--feedback") { Description = "Share of answers (0 to 1) whose users post feedback to the collector; needs --endpoint.", DefaultValueFactory = _ => 0 };
var degraded = new Option<string?>("--agent-degraded") { Description = "Name of an agent that fails about 60 % of the time, three times slower (for alerting tests)." };

duration.Validators.Add(r => FleetOptionParsing.RequirePositive(r, "--duration"));
rate.Validators.Add(r => FleetOptionParsing.RequirePositive(r, "--rate"));
feedbackRatio.Validators.Add(FleetOptionParsing.RequireRatio);
prometheusPort.Validators.Add(FleetOptionParsing.RequirePort);
degraded.Validators.Add(FleetOptionParsing.RequireKnownAgent);
tenant.Validators.Add(r =>
{
    if (string.IsNullOrWhiteSpace(r.GetValueOrDefault<string>()))
    {
        r.AddError("--tenant cannot be empty.");
    }
});

var root = new RootCommand("AgentFleet: simulated AI agents instrumented with PerfOtel, exporting OTLP/HTTP. Stops by itself.")
{
    endpoint, duration, rate, seed, tenant, prometheusPort, feedbackRatio, degraded,
};
root.SetAction(async (parsed, cancellationToken) =>
{
    var settings = new FleetSettings
    {
        DurationSeconds = parsed.GetValue(duration),
        InvocationsPerSecond = parsed.GetValue(rate),
        Seed = parsed.GetValue(seed),
        Tenant = parsed.GetValue(tenant)!,
        DegradedAgent = parsed.GetValue(degraded),
        FeedbackRatio = parsed.GetValue(feedbackRatio),
    };
    var otlpEndpoint = parsed.GetValue(endpoint);
    var port = parsed.GetValue(prometheusPort);

    await using var telemetry = await FleetTelemetry.StartAsync(otlpEndpoint, port, settings.Tenant);
    if (settings.FeedbackRatio > 0 && otlpEndpoint is null)
    {
        Console.Error.WriteLine("--feedback needs --endpoint: no feedback will be sent.");
    }
    using var feedback = settings.FeedbackRatio > 0 && otlpEndpoint is not null
        ? new FeedbackPoster(new HttpClient { Timeout = TimeSpan.FromSeconds(5) }, otlpEndpoint, settings.LatencyScale)
        : null;

    var destinations = (otlpEndpoint is null ? "no OTLP endpoint" : $"OTLP/HTTP to {otlpEndpoint}")
        + (port is null ? "" : $", Prometheus on http://127.0.0.1:{port}/metrics");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"AgentFleet: {settings.InvocationsPerSecond}/s for {settings.DurationSeconds} s, seed {settings.Seed}, tenant '{settings.Tenant}', {destinations}"));

    var summary = await new FleetRunner(settings, feedback).RunAsync(cancellationToken);
    telemetry.Flush();

    foreach (var ((agent, outcome), count) in summary.Invocations.OrderBy(e => e.Key.Agent, StringComparer.Ordinal).ThenBy(e => e.Key.Outcome))
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {agent,-20} {outcome.ToString().ToLowerInvariant(),-8} {count,6}"));
    }
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"invocations: {summary.Total}"));
    if (feedback is not null)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"feedback: {summary.FeedbackPosted} posted, {summary.FeedbackFailed} failed (ignored)"));
    }
    return 0;
});

return await root.Parse(args).InvokeAsync();
