using PerfOtel.Alerting.Tests.PromQl;

namespace PerfOtel.Alerting.Tests;

public class PromQlScannerTests
{
    [Fact]
    public void Scan_SeparatesMetricsFromFunctionsAggregationsAndKeywords()
    {
        var refs = PromQlScanner.Scan(
            "histogram_quantile(0.95, sum by (le, gen_ai_agent_name) (rate(gen_ai_invoke_agent_duration_seconds_bucket[$__rate_interval])))\n" +
            "> on () group_left () threshold:perfotel_agent_latency_p95_seconds:max and bool up offset 5m or vector(1)");

        Assert.Equal(["gen_ai_invoke_agent_duration_seconds_bucket", "threshold:perfotel_agent_latency_p95_seconds:max", "up"],
            refs.Selectors.Select(s => s.Metric));
        Assert.Equal(["le", "gen_ai_agent_name"], refs.Labels);
    }

    [Fact]
    public void Scan_AttachesMatcherLabelsToTheirMetricAndKeepsBareMatchersApart()
    {
        var refs = PromQlScanner.Scan("""a{tenant=~"$tenant", window="1h", x!~"}{,"} / ignoring(bin) {quantile="0.5"}""");

        var selector = Assert.Single(refs.Selectors);
        Assert.Equal("a", selector.Metric);
        Assert.Equal(["tenant", "window", "x"], selector.MatcherLabels);
        Assert.Equal(["bin", "quantile"], refs.Labels.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Scan_ReadsNestedLabelReplaceSourcesAndDestinations()
    {
        var refs = PromQlScanner.Scan(
            """label_replace(label_replace(m, "tenant", "$1", "perfotel_tenant", "(.*)"), "agent", "*", "", "")""");

        Assert.Equal(["tenant", "agent"], refs.IntroducedLabels);
        Assert.Equal(["perfotel_tenant"], refs.Labels);
        Assert.Equal("m", Assert.Single(refs.Selectors).Metric);
    }

    [Fact]
    public void Scan_SkipsNumbersDurationsAndComments()
    {
        var refs = PromQlScanner.Scan("1e+3 * 0x1f - 14.4 # trailing comment with words\n+ metric_a[5m:1m]");

        Assert.Equal("metric_a", Assert.Single(refs.Selectors).Metric);
    }

    [Fact]
    public void Scan_RejectsAnUnclosedMatcher() =>
        Assert.Throws<FormatException>(() => PromQlScanner.Scan("""m{a="b" """));
}
