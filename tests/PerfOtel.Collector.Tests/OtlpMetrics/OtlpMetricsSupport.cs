using System.Net.Http.Headers;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Metrics.V1;
using OpenTelemetry.Proto.Resource.V1;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.OtlpMetrics;

/// <summary>OTLP metrics requests as SDKs send them, and scrapes of the collector's /metrics.</summary>
internal static class OtlpMetricsSupport
{
    /// <summary>2023-11-14T22:13:20Z, the start time of the fixtures' cumulative series.</summary>
    public const ulong Start = 1_700_000_000_000_000_000;

    public const ulong Second = 1_000_000_000;

    public static readonly double[] TokenBounds = [1, 4, 16];

    public static Dictionary<string, string?> Settings(Dictionary<string, string?>? more = null)
    {
        // Every scrape collects afresh: the tests look at /metrics right after a push.
        var settings = new Dictionary<string, string?> { ["Metrics:Exporter:ScrapeResponseCacheDuration"] = "00:00:00" };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    public static ExportMetricsServiceRequest Request(IEnumerable<Metric> metrics, string instance = "pod-1", params (string Key, object Value)[] moreResource)
    {
        var resource = new Resource();
        resource.Attributes.Add(Attr("service.name", "support-bot"));
        resource.Attributes.Add(Attr("service.namespace", "shop"));
        resource.Attributes.Add(Attr("service.instance.id", instance));
        foreach (var (key, value) in moreResource)
        {
            resource.Attributes.Add(Attr(key, value));
        }

        var scope = new ScopeMetrics { Scope = new InstrumentationScope { Name = "node-agent", Version = "1.0.0" } };
        scope.Metrics.AddRange(metrics);
        var resourceMetrics = new ResourceMetrics { Resource = resource };
        resourceMetrics.ScopeMetrics.Add(scope);
        var request = new ExportMetricsServiceRequest();
        request.ResourceMetrics.Add(resourceMetrics);
        return request;
    }

    public static KeyValue[] CallAttributes(string tokenType, params (string Key, object Value)[] more) =>
    [
        Attr("gen_ai.operation.name", "chat"),
        Attr("gen_ai.provider.name", "openai"),
        Attr("gen_ai.request.model", "gpt-4o-mini"),
        Attr("gen_ai.token.type", tokenType),
        .. more.Select(m => Attr(m.Key, m.Value)),
    ];

    public static Metric TokenUsage(AggregationTemporality temporality, params HistogramDataPoint[] points)
    {
        var histogram = new Histogram { AggregationTemporality = temporality };
        histogram.DataPoints.AddRange(points);
        return new Metric { Name = "gen_ai.client.token.usage", Unit = "{token}", Description = "Number of input and output tokens used.", Histogram = histogram };
    }

    public static HistogramDataPoint TokenPoint(ulong start, ulong time, ulong[] counts, double sum, params KeyValue[] attributes)
    {
        var point = new HistogramDataPoint { StartTimeUnixNano = start, TimeUnixNano = time, Sum = sum, Count = (ulong)counts.Sum(c => (long)c) };
        point.ExplicitBounds.AddRange(TokenBounds);
        point.BucketCounts.AddRange(counts);
        point.Attributes.AddRange(attributes);
        return point;
    }

    public static Metric Counter(string name, string unit, AggregationTemporality temporality, params NumberDataPoint[] points)
    {
        var sum = new Sum { AggregationTemporality = temporality, IsMonotonic = true };
        sum.DataPoints.AddRange(points);
        return new Metric { Name = name, Unit = unit, Sum = sum };
    }

    public static NumberDataPoint Number(ulong start, ulong time, long value, params KeyValue[] attributes)
    {
        var point = new NumberDataPoint { StartTimeUnixNano = start, TimeUnixNano = time, AsInt = value };
        point.Attributes.AddRange(attributes);
        return point;
    }

    public static Metric Gauge(string name, string unit, double value)
    {
        var gauge = new Gauge();
        gauge.DataPoints.Add(new NumberDataPoint { TimeUnixNano = Start + Second, AsDouble = value });
        return new Metric { Name = name, Unit = unit, Gauge = gauge };
    }

    public static Metric ExponentialHistogram(string name)
    {
        var histogram = new ExponentialHistogram { AggregationTemporality = AggregationTemporality.Cumulative };
        histogram.DataPoints.Add(new ExponentialHistogramDataPoint { StartTimeUnixNano = Start, TimeUnixNano = Start + Second, Count = 1, Sum = 2, Scale = 0 });
        return new Metric { Name = name, Unit = "s", ExponentialHistogram = histogram };
    }

    public static async Task<ExportMetricsServiceResponse> PostAsync(HttpClient http, ExportMetricsServiceRequest request, string? apiKey = null)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v1/metrics") { Content = Protobuf(request) };
        if (apiKey is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        using var response = await http.SendAsync(message);
        var body = await response.Content.ReadAsByteArrayAsync();
        Xunit.Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
        return ExportMetricsServiceResponse.Parser.ParseFrom(body);
    }

    public static async Task<string> ScrapeAsync(HttpClient http, bool openMetrics = false, string? apiKey = null)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (openMetrics)
        {
            message.Headers.Accept.ParseAdd("application/openmetrics-text;version=1.0.0");
        }

        if (apiKey is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        using var response = await http.SendAsync(message);
        var text = await response.Content.ReadAsStringAsync();
        Xunit.Assert.True(response.IsSuccessStatusCode, text);
        return text;
    }

    /// <summary>The value of a self-metric series (the collector's own meter adds its otel_scope_* labels).</summary>
    public static double SelfMetric(string scrape, string name, string label)
    {
        var line = scrape.Split('\n').FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"no {name} with {label} in:\n{scrape}");
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The lines of one family (its metadata and samples), in scrape order.</summary>
    public static string[] Family(string scrape, string name) =>
        scrape.Split('\n').Where(l => l.StartsWith(name + "_", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal)
            || l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith("# TYPE " + name + " ", StringComparison.Ordinal)
            || l.StartsWith("# HELP " + name + " ", StringComparison.Ordinal) || l.StartsWith("# UNIT " + name + " ", StringComparison.Ordinal)).ToArray();
}
