using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using PerfOtel.Instrumentation.Experiments;

namespace PerfOtel.Benchmarks.Instrumentation;

/// <summary>
/// Variant assignment on the hot path (one per agent invocation) against its floor: SHA-256 of the same bytes with
/// the one-shot API, which is what the assignment must cost at least.
/// </summary>
[Config(typeof(InProcessShortRunConfig))]
[MemoryDiagnoser]
public class ExperimentAssignmentBenchmarks
{
    private static readonly ExperimentAssignment Assignment = new("cheaper-model", new("control", 90), new("gpt-4o-mini", 10));
    private static readonly byte[] Bytes = Encoding.UTF8.GetBytes("cheaper-model\0conversation-7f3a9c2e");
    private readonly byte[] _hash = new byte[32];

    [Benchmark(Baseline = true, Description = "SHA256.HashData of the same bytes (floor)")]
    public int HashOnly() => SHA256.HashData(Bytes, _hash);

    [Benchmark(Description = "ExperimentAssignment.Assign (UTF-8 encode, hash, pick)")]
    public string Assign() => Assignment.Assign("conversation-7f3a9c2e");
}
