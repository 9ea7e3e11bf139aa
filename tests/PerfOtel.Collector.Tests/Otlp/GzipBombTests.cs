using System.IO.Compression;
using System.Net;
using PerfOtel.Collector.Tests.Otlp.Support;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>Runs alone: it measures the process's allocations, which other tests running beside it would inflate.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasuringCollection
{
    public const string Name = "allocation-measuring";
}

[Collection(AllocationMeasuringCollection.Name)]
public sealed class GzipBombTests
{
    [Fact]
    public async Task GzipBomb_IsCutOffAtTheLimit_NotInflated()
    {
        await using var collector = new CollectorFactory(new() { ["Otlp:MaxRequestBytes"] = (64 * 1024).ToString() });
        using var client = collector.CreateClient();
        // 256 MiB of zeros compress to about 256 KiB. Inflating it whole would allocate at least that much.
        var bomb = new MemoryStream();
        using (var zip = new GZipStream(bomb, CompressionLevel.Optimal, leaveOpen: true))
        {
            var zeros = new byte[1024 * 1024];
            for (var i = 0; i < 256; i++)
            {
                zip.Write(zeros);
            }
        }

        var content = new ByteArrayContent(bomb.ToArray());
        content.Headers.ContentType = new("application/x-protobuf");
        content.Headers.ContentEncoding.Add("gzip");
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        using var response = await client.PostAsync("/v1/traces", content);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.True(allocated < 128L * 1024 * 1024, $"the receiver allocated {allocated} bytes for a 64 KiB limit");
    }
}
