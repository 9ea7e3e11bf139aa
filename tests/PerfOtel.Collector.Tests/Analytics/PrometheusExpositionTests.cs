using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using PerfOtel.Exporter;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Analytics.Records;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Tests.Analytics;

/// <summary>The analytics gauges as Prometheus scrapes them from PerfOtel.Exporter.</summary>
public partial class PrometheusExpositionTests
{
    [GeneratedRegex(@"^# TYPE (\S+) (\S+)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();

    [Fact]
    public async Task Scrape_exposes_every_catalog_metric_under_its_prometheus_name()
    {
        using var collector = new AnalyticsInstance(new ManualTimeProvider(Noon.AddMinutes(30)));
        // The exporter's own path: an SDK collection (of no meters here) with the analytics producer after it.
        using var meterProvider = Sdk.CreateMeterProviderBuilder()
            .AddPerfOtelPrometheusExporter(o => o.Producers.Add(collector.Exposition))
            .Build();
        for (var minute = -90; minute < 30; minute++)
        {
            var invocation = Invocation("full", Noon.AddMinutes(minute), minute % 3 == 0 ? Outcomes.Failure : Outcomes.Success,
                confidence: 0.9, taskType: minute % 2 == 0 ? "a" : "b", quality: 0.75);
            var batch = Batch(invocation);
            batch.ProviderCalls.Add(Call(invocation, 10, 5, 0.01));
            batch.Evaluations.Add(Evaluation(invocation, "accuracy", 0.8));
            collector.Observer.Apply(batch);
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddSingleton(meterProvider);
        await using var app = builder.Build();
        app.MapPerfOtelScrapingEndpoint();
        await app.StartAsync();
        using var client = app.GetTestClient();
        var text = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        var families = TypeLine().Matches(text).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        foreach (var definition in AnalyticsMetricCatalog.All)
        {
            Assert.True(families.TryGetValue(definition.PrometheusName, out var type), $"{definition.PrometheusName} missing in:\n{text}");
            Assert.Equal("gauge", type);
        }
        Assert.Contains(text.Split('\n'), line =>
            line.StartsWith("perfotel_agent_calibration_error{", StringComparison.Ordinal) &&
            line.Contains("agent=\"full\"", StringComparison.Ordinal) && line.Contains("window=\"1h\"", StringComparison.Ordinal) &&
            line.Contains("tenant=\"default\"", StringComparison.Ordinal));
        Assert.Contains(text.Split('\n'), line =>
            line.StartsWith("perfotel_agent_trend{", StringComparison.Ordinal) && line.Contains("metric=\"success_rate\"", StringComparison.Ordinal));
    }
}
