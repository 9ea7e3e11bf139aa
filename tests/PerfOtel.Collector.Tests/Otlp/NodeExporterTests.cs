using OpenTelemetry.Exporter;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>
/// The OpenTelemetry JS trace exporters from npm (tests/node-exporters, installed by scripts/install-test-deps.sh),
/// over OTLP/gRPC, OTLP/HTTP JSON and OTLP/HTTP protobuf, lead to the same stored records and /metrics series as the
/// .NET HTTP exporter sending the same run.
/// </summary>
public sealed class NodeExporterTests : IDisposable
{
    private readonly List<DirectoryInfo> _directories = [];

    [Theory]
    [InlineData("grpc")]
    [InlineData("http")]
    [InlineData("proto")]
    public async Task NodeExporter_StoresAndExposesWhatTheDotNetHttpExporterDoes(string protocol)
    {
        var start = AgentRunFixture.Start();
        await using var baseline = await CollectorProcess.StartAsync(NewDirectory());
        await using var viaNode = await CollectorProcess.StartAsync(NewDirectory());
        AgentRunFixture.EmitAgentRun(start, exporter =>
        {
            exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            exporter.Endpoint = new Uri(baseline.BaseAddress, "v1/traces");
        });

        var url = protocol == "grpc" ? viaNode.GrpcAddress.ToString().TrimEnd('/') : new Uri(viaNode.BaseAddress, "v1/traces").ToString();
        await RunNodeAsync(protocol, url, "acme", start);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var expected = await AgentRunFixture.ExportedAsync(http, baseline);
        var actual = await AgentRunFixture.ExportedAsync(http, viaNode);
        Assert.Equal(2, expected.Length);
        Assert.Equal(expected, actual);

        var (expectedSeries, actualSeries) = await AgentRunFixture.SeriesOnceSettledAsync(http, baseline, viaNode);
        Assert.Contains(expectedSeries, s => s.Contains("agent=\"triage\"", StringComparison.Ordinal));
        Assert.Equal(expectedSeries, actualSeries);
    }

    public void Dispose()
    {
        foreach (var directory in _directories)
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task RunNodeAsync(string protocol, string url, string tenant, DateTimeOffset start)
    {
        var fixture = RepoPaths.Combine("tests", "node-exporters");
        Assert.True(Directory.Exists(Path.Combine(fixture, "node_modules", "@opentelemetry")),
            $"{fixture}/node_modules is missing: run scripts/install-test-deps.sh (it runs npm ci there)");
        var node = ExternalProcess.FindOnPath("node", "nodejs") ?? throw new InvalidOperationException("node is not installed: run scripts/install-test-deps.sh");
        await using var process = ExternalProcess.Start(node,
            ["emit-agent-run.js", protocol, url, tenant, start.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)],
            workingDirectory: fixture);
        Assert.True(await process.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the Node exporter did not finish:\n" + process.Output);
        await process.WaitForExitAsync(TimeSpan.FromSeconds(5));
        Assert.True(process.ExitCode == 0, $"the Node {protocol} exporter failed:\n{process.Output}");
    }

    private string NewDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("perfotel-node-");
        _directories.Add(directory);
        return directory.FullName;
    }
}
