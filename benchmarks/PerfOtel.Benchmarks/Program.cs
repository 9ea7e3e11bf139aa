using BenchmarkDotNet.Running;

namespace PerfOtel.Benchmarks;

/// <summary>Run all benchmarks, or pick with --filter '*Provider*' (BenchmarkDotNet switcher syntax).</summary>
public static class BenchmarkEntry
{
    public static void Main(string[] args) =>
        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkEntry).Assembly).Run(args);
}
