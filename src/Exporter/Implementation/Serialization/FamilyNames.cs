using System.Text;
using PerfOtel.Exporter.Implementation.Naming;

namespace PerfOtel.Exporter.Implementation.Serialization;

/// <summary>
/// The Prometheus names of one family, from an OpenTelemetry name, unit and type, by the rules every family of a
/// scrape follows (unit suffix, <c>_total</c> on counters): the SDK's metric streams and the families a producer
/// writes (<see cref="PrometheusMetricFamily"/>) both take their names, encoded sample names, metadata lines and the
/// sample names they claim in the scrape from here.
/// </summary>
internal sealed class FamilyNames
{
    public FamilyNames(string otelName, string? unit, PrometheusType type, bool addTotalSuffix)
    {
        Type = type;
        UnitWord = PrometheusNames.TranslateUnit(unit);
        (FamilyName, SampleName) = PrometheusNames.TranslateMetricName(otelName, UnitWord, type == PrometheusType.Counter, addTotalSuffix);
        SampleNameBytes = Encoding.UTF8.GetBytes(SampleName);
        BucketNameBytes = Encoding.UTF8.GetBytes(FamilyName + "_bucket");
        SumNameBytes = Encoding.UTF8.GetBytes(FamilyName + "_sum");
        CountNameBytes = Encoding.UTF8.GetBytes(FamilyName + "_count");
        CreatedNameBytes = Encoding.UTF8.GetBytes(FamilyName + "_created");
        ExposedNames = type switch
        {
            PrometheusType.Histogram => [FamilyName, FamilyName + "_bucket", FamilyName + "_sum", FamilyName + "_count"],
            PrometheusType.Counter => [FamilyName, SampleName],
            _ => [FamilyName],
        };
    }

    public PrometheusType Type { get; }

    public string UnitWord { get; }

    /// <summary>Family name as OpenMetrics metadata lines use it (no <c>_total</c>).</summary>
    public string FamilyName { get; }

    /// <summary>Name of counter and gauge samples (with <c>_total</c> on counters); the text format's family name.</summary>
    public string SampleName { get; }

    public byte[] SampleNameBytes { get; }

    public byte[] BucketNameBytes { get; }

    public byte[] SumNameBytes { get; }

    public byte[] CountNameBytes { get; }

    /// <summary>Name of the OpenMetrics <c>_created</c> sample of counters and histograms.</summary>
    public byte[] CreatedNameBytes { get; }

    /// <summary>Every sample name the family writes, which no other family of the scrape may use.</summary>
    public string[] ExposedNames { get; }

    /// <summary>The HELP/TYPE lines of the text format 0.0.4.</summary>
    public byte[] TextHeader(string? description) =>
        FamilyHeaders.Text(Type == PrometheusType.Counter ? SampleName : FamilyName, Type, description);

    /// <summary>The TYPE/UNIT/HELP lines of OpenMetrics 1.0.</summary>
    public byte[] OpenMetricsHeader(string? description) => FamilyHeaders.OpenMetrics(FamilyName, Type, UnitWord, description);
}
