using PerfOtel.Exporter.Implementation.Naming;

namespace PerfOtel.Exporter.Tests.Naming;

/// <summary>
/// The translation table of the OpenTelemetry Prometheus compatibility specification, case by case. Where the
/// specification leaves room (the unit "1", "already ends with the unit") the expected names are the ones
/// OpenTelemetry.Exporter.Prometheus gives, so one dashboard reads either exporter.
/// </summary>
public class PrometheusNamesTests
{
    [Theory]
    [InlineData("s", "seconds")]
    [InlineData("ms", "milliseconds")]
    [InlineData("us", "microseconds")]
    [InlineData("ns", "nanoseconds")]
    [InlineData("min", "minutes")]
    [InlineData("h", "hours")]
    [InlineData("d", "days")]
    [InlineData("By", "bytes")]
    [InlineData("KiBy", "kibibytes")]
    [InlineData("MBy", "megabytes")]
    [InlineData("Cel", "celsius")]
    [InlineData("%", "percent")]
    [InlineData("1", "")]
    [InlineData("{token}", "")]
    [InlineData("By/s", "bytes_per_second")]
    [InlineData("{request}/s", "per_second")]
    [InlineData("1/s", "per_second")]
    [InlineData("m/s", "meters_per_second")]
    [InlineData("tokens/min", "tokens_per_min")]
    [InlineData("USD", "USD")]
    [InlineData("k{token}", "k")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void UnitsTranslateToPrometheusWords(string? unit, string expected) =>
        Assert.Equal(expected, PrometheusNames.TranslateUnit(unit));

    [Theory]
    [InlineData("gen_ai.client.operation.duration", "seconds", false, "gen_ai_client_operation_duration_seconds")]
    [InlineData("gen_ai.client.token.usage", "", false, "gen_ai_client_token_usage")]
    [InlineData("http.server.request.duration_seconds", "seconds", false, "http_server_request_duration_seconds")]
    [InlineData("seconds_before_birthday", "seconds", false, "seconds_before_birthday_seconds")]
    [InlineData("bytes.sent", "bytes", true, "bytes_sent_bytes_total")]
    [InlineData("io_bytes_total", "bytes", true, "io_bytes_total")]
    [InlineData("perfotel.invocations", "", true, "perfotel_invocations_total")]
    [InlineData("requests_total", "", true, "requests_total")]
    [InlineData("process.cpu.time", "seconds", true, "process_cpu_time_seconds_total")]
    [InlineData("perfotel.accuracy", "ratio", false, "perfotel_accuracy_ratio")]
    [InlineData("weird..name--with  spaces", "", false, "weird_name_with_spaces")]
    [InlineData("9lives", "", false, "_9lives")]
    [InlineData("ns:metric", "", false, "ns:metric")]
    [InlineData("naïve.métrique", "", false, "na_ve_m_trique")]
    public void MetricNamesAreSanitisedAndSuffixed(string otelName, string unitWord, bool isCounter, string expected) =>
        Assert.Equal(expected, PrometheusNames.TranslateMetricName(otelName, unitWord, isCounter, addTotalSuffix: true).SampleName);

    [Fact]
    public void OpenMetricsFamilyOfACounterHasNoTotalSuffix()
    {
        var (family, sample) = PrometheusNames.TranslateMetricName("perfotel.invocations", "", isCounter: true, addTotalSuffix: true);
        Assert.Equal("perfotel_invocations", family);
        Assert.Equal("perfotel_invocations_total", sample);
    }

    [Fact]
    public void TotalSuffixCanBeDisabled() =>
        Assert.Equal("perfotel_invocations",
            PrometheusNames.TranslateMetricName("perfotel.invocations", "", isCounter: true, addTotalSuffix: false).SampleName);

    [Theory]
    [InlineData("gen_ai.agent.name", "gen_ai_agent_name")]
    [InlineData("http.response.status_code", "http_response_status_code")]
    [InlineData("__reserved", "_reserved")]
    [InlineData("a..b", "a_b")]
    [InlineData("2xx", "key_2xx")]
    [InlineData("ns:label", "ns_label")]
    [InlineData("", "_")]
    public void LabelNamesAreSanitised(string key, string expected) =>
        Assert.Equal(expected, PrometheusNames.SanitizeLabelName(key));
}
