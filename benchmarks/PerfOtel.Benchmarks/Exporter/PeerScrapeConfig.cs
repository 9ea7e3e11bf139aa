using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace PerfOtel.Benchmarks.Exporter;

/// <summary>
/// The peer comparison's job: in-process (the runtime is newer than this BenchmarkDotNet knows), 10 warm-up iterations
/// so tiered compilation has reached the optimised code of the shared HTTP stack and of each exporter before anything
/// is measured (ShortRun's 3 warm-ups measured PerfOtel, the first method of each group, partly in instrumented code),
/// and 25 measured iterations so one noisy iteration moves the median not at all and the mean little. Median and mean
/// are both shown; the goal against the floor is read on the median (see the exporter README).
/// </summary>
public sealed class PeerScrapeConfig : ManualConfig
{
    public PeerScrapeConfig()
    {
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(10)
            .WithIterationCount(25)
            .WithId("Peers"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.P90);
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}
