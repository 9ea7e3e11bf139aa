using PerfOtel.Exporter.Implementation.Scraping;
using PerfOtel.Exporter.Implementation.Serialization;

namespace PerfOtel.Exporter.Tests.Scraping;

public class ContentNegotiationTests
{
    [Theory]
    // Prometheus 2.x scrape Accept header.
    [InlineData("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", true)]
    // Prometheus 3.x style, with the escaping parameter.
    [InlineData("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.4,*/*;q=0.1", true)]
    [InlineData("application/openmetrics-text", true)]
    [InlineData("text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5", false)]
    [InlineData("text/plain", false)]
    [InlineData("*/*", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("application/json", false)]
    [InlineData("application/openmetrics-text;version=2.0.0", false)]
    [InlineData("application/openmetrics-text;version=1.0.0;q=0", false)]
    [InlineData("application/openmetrics-text; version=\"1.0.0\" ; q=1.0 , text/plain", true)]
    public void ChoosesTheFormatWithTheHighestQuality(string? accept, bool expectOpenMetrics) =>
        Assert.Equal(expectOpenMetrics ? ExpositionFormat.OpenMetrics : ExpositionFormat.PrometheusText,
            ContentNegotiation.Choose(accept, openMetricsEnabled: true));

    [Fact]
    public void OpenMetricsCanBeDisabled() =>
        Assert.Equal(ExpositionFormat.PrometheusText, ContentNegotiation.Choose("application/openmetrics-text;version=1.0.0", openMetricsEnabled: false));

    [Theory]
    [InlineData("gzip", true)]
    [InlineData("gzip, deflate, br", true)]
    [InlineData("GZIP;q=0.5", true)]
    [InlineData("gzip;q=0", false)]
    [InlineData("identity", false)]
    [InlineData("*", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void GzipFollowsAcceptEncoding(string? acceptEncoding, bool expected) =>
        Assert.Equal(expected, ContentNegotiation.AcceptsGzip(acceptEncoding));
}
