using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PerfOtel.Instrumentation;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Exporter.Tests.Interop;

/// <summary>
/// PerfOtel's instruments through every exporter a team may already run: one MeterProvider, registered the standard
/// way (<c>AddOpenTelemetry().ConfigureResource(...).WithMetrics(...).WithTracing(...)</c>), read by
/// OpenTelemetry.Exporter.Prometheus.AspNetCore and by PerfOtel.Exporter, each on its own endpoint. Dashboards and
/// rules written against one must work against the other, so every catalog metric must come out with the same series
/// names, label sets, <c>le</c> values and values in both formats.
/// </summary>
[Collection(PerfOtelAgentsInstruments.Name)]
public sealed class UpstreamExporterParityTests
{
    private const string OpenMetricsAccept = "application/openmetrics-text;version=1.0.0";
    private const string TextAccept = "text/plain;version=0.0.4";

    [Fact]
    public async Task EveryCatalogMetricScrapesTheSameThroughOpenTelemetrysExporterAndPerfOtels()
    {
        var spans = new List<Activity>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("parity-test", serviceInstanceId: "parity-1"))
            .WithMetrics(metrics => metrics
                .AddPerfOtelInstrumentation()
                .AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0)
                .AddPerfOtelPrometheusExporter(options => options.ScrapeResponseCacheDuration = TimeSpan.Zero))
            .WithTracing(tracing => tracing
                .AddPerfOtelInstrumentation()
                .AddInMemoryExporter(spans));
        await using var app = builder.Build();
        app.MapPrometheusScrapingEndpoint("/otel/metrics");
        app.MapPerfOtelScrapingEndpoint("/metrics");
        await app.StartAsync();
        using var client = new HttpClient
        {
            BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()),
        };

        RecordEveryCatalogMetric();

        foreach (var accept in new[] { TextAccept, OpenMetricsAccept })
        {
            var upstream = Exposition.Parse(await ScrapeAsync(client, "/otel/metrics", accept));
            var perfOtel = Exposition.Parse(await ScrapeAsync(client, "/metrics", accept));

            foreach (var definition in MetricCatalog.All)
            {
                var family = definition.Kind == MetricInstrumentKind.Counter
                    ? definition.PrometheusName[..^"_total".Length]
                    : definition.PrometheusName;
                Assert.True(perfOtel.Samples.Keys.Any(k => k.StartsWith(family + "_", StringComparison.Ordinal) || k.StartsWith(family + "{", StringComparison.Ordinal)),
                    $"{definition.Name} is missing from PerfOtel's scrape ({accept})");
            }

            var millionBound = accept == OpenMetricsAccept ? "le=\"1.048576e+06\"" : "le=\"1048576\"";
            Assert.Contains(perfOtel.Samples.Keys, k => k.StartsWith("gen_ai_client_token_usage_bucket{", StringComparison.Ordinal) && k.Contains(millionBound, StringComparison.Ordinal));
            Assert.Equal(accept == OpenMetricsAccept, perfOtel.Samples.Keys.Any(k => k.Contains("_created{", StringComparison.Ordinal)));
            Assert.Equal(upstream.Types, perfOtel.Types);
            Assert.Equal(upstream.Samples.Keys.Order(StringComparer.Ordinal), perfOtel.Samples.Keys.Order(StringComparer.Ordinal));
            foreach (var (series, value) in upstream.Samples)
            {
                if (series.Contains("_created", StringComparison.Ordinal))
                {
                    // Each reader keeps its own start time, taken when the provider started it: the same second.
                    Assert.InRange(perfOtel.Samples[series], value - 2, value + 2);
                }
                else
                {
                    Assert.True(value.Equals(perfOtel.Samples[series]), $"{series}: OpenTelemetry {value}, PerfOtel {perfOtel.Samples[series]} ({accept})");
                }
            }
        }

        // The instrumentation also works inside the standard hosting on the tracing side.
        Assert.Contains(spans, span => span.DisplayName == "invoke_agent parity-agent");
    }

    private static async Task<string> ScrapeAsync(HttpClient client, string path, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    // Every instrument of the catalog, with values in the token buckets at and above 1e6 (where le spellings differ
    // between formatters) and in the lowest duration and unit-interval buckets.
    private static void RecordEveryCatalogMetric()
    {
        using var invocation = AgentTelemetry.StartInvocation("parity-agent", new() { Tenant = "parity", AgentType = "test" });
        using (var call = invocation.StartProviderCall("openai", "gpt-4o"))
        {
            call.SetUsage(2_000_000, 10).SetAttempt(2).SetFallback("anthropic/claude-sonnet-4-5", "rate_limited").Fail("timeout");
        }

        using (var call = invocation.StartProviderCall("openai", "gpt-4o"))
        {
            call.SetUsage(1_048_576, 300).SetCost(0.125);
        }

        using (var unpriced = invocation.StartProviderCall("selfhosted", "no-such-model"))
        {
            unpriced.SetUsage(5, 5);
        }

        using (var tool = invocation.StartToolExecution("search"))
        {
            tool.Fail("not_found");
        }

        invocation.RecordEvaluation("judge", 0.3);
        invocation.RecordEvaluation("accuracy", 1.0);
        invocation.SetConfidence(0.9);
        invocation.Fail("bad_answer");
    }

    /// <summary>A scrape read the way Prometheus keys it: series (name and sorted labels) to value, and the TYPE lines.</summary>
    private sealed record Exposition(Dictionary<string, double> Samples, SortedSet<string> Types)
    {
        public static Exposition Parse(string body)
        {
            var samples = new Dictionary<string, double>(StringComparer.Ordinal);
            var types = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var line in body.Split('\n'))
            {
                if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                {
                    types.Add(line);
                    continue;
                }

                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }

                var (series, rest) = ParseSeries(line);
                var valueText = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                var value = valueText switch
                {
                    "+Inf" => double.PositiveInfinity,
                    "-Inf" => double.NegativeInfinity,
                    "NaN" => double.NaN,
                    _ => double.Parse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture),
                };
                Assert.True(samples.TryAdd(series, value), $"duplicate series {series}");
            }

            return new Exposition(samples, types);
        }

        private static (string Series, string Remainder) ParseSeries(string line)
        {
            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (brace < 0 || space < brace)
            {
                return (line[..space], line[(space + 1)..]);
            }

            var labels = new List<string>();
            var i = brace + 1;
            while (line[i] != '}')
            {
                var equals = line.IndexOf('=', i);
                var name = line[i..equals];
                var end = equals + 2;
                while (line[end] != '"')
                {
                    end += line[end] == '\\' ? 2 : 1;
                }

                labels.Add(name + "=" + line[(equals + 1)..(end + 1)]);
                i = end + 1;
                if (line[i] == ',')
                {
                    i++;
                }
            }

            labels.Sort(StringComparer.Ordinal);
            return (line[..brace] + "{" + string.Join(',', labels) + "}", line[(i + 2)..]);
        }
    }
}

/// <summary>Tests that record through PerfOtel's process-wide instruments run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PerfOtelAgentsInstruments
{
    public const string Name = "PerfOtel.Agents instruments";
}
