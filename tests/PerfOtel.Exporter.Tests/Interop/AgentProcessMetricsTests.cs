using System.Text.RegularExpressions;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;

namespace PerfOtel.Exporter.Tests.Interop;

/// <summary>
/// <c>AddPerfOtelProcessMetrics()</c> through PerfOtel.Exporter: every series of <see cref="ProcessMetricCatalog"/>
/// that the rules and the agent dashboard read is served under its catalog name with its catalog labels, and the
/// resource's <c>service.name</c> and <c>perfotel.tenant</c> reach <c>target_info</c> (what the rules join on).
/// </summary>
public class AgentProcessMetricsTests
{
    [Fact]
    public async Task Process_metrics_are_scraped_under_the_catalog_names_beside_the_resource_the_rules_join_on()
    {
        var port = TestPorts.GetFree();
        using var provider = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("triage").AddAttributes([new(PerfOtelAttributes.Tenant, "acme")]))
            .AddPerfOtelProcessMetrics()
            .AddPerfOtelPrometheusHttpListener(options => options.UriPrefixes = [$"http://127.0.0.1:{port}/"])
            .Build();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var text = await client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));

        var samples = text.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        foreach (var metric in ProcessMetricCatalog.All)
        {
            var series = samples.Where(l => Regex.IsMatch(l, "^" + Regex.Escape(metric.PrometheusName) + "[{ ]")).ToList();
            Assert.True(series.Count > 0, $"{metric.PrometheusName} ({metric.Name}) is not in the scrape:\n{text}");
            foreach (var attribute in metric.Attributes)
            {
                var label = attribute.Replace('.', '_');
                Assert.All(series, s => Assert.Contains(label + "=\"", s, StringComparison.Ordinal));
            }
        }

        Assert.Contains(samples, s => s.StartsWith("target_info{", StringComparison.Ordinal)
            && s.Contains("service_name=\"triage\"", StringComparison.Ordinal) && s.Contains("perfotel_tenant=\"acme\"", StringComparison.Ordinal));
        Assert.Contains(samples, s => s.StartsWith("process_cpu_time_seconds_total{", StringComparison.Ordinal) && s.Contains("cpu_mode=\"user\"", StringComparison.Ordinal));
        var memory = samples.First(s => s.StartsWith("process_memory_usage_bytes", StringComparison.Ordinal));
        Assert.True(double.Parse(memory[(memory.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) > 0, memory);
        Assert.Contains("# TYPE process_memory_usage_bytes gauge", text, StringComparison.Ordinal);
    }
}
