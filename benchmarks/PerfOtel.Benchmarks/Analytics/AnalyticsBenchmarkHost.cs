using PerfOtel.Collector.Derived;
using Microsoft.Extensions.Logging.Abstractions;
using PerfOtel.Collector.Derived.Cardinality;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Benchmarks.Analytics;

/// <summary>A clock that stands still unless moved: benchmarks must not see buckets roll over mid-run.</summary>
internal sealed class StoppedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>The analytics of one collector, as the collector wires them, without the web host.</summary>
internal sealed class AnalyticsBenchmarkHost : IDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 11, 20, 12, 0, 30, TimeSpan.Zero);

    private readonly ServiceProvider services;
    private int sequence;

    public AnalyticsBenchmarkHost()
    {
        services = new ServiceCollection()
            .AddLogging()
            .AddMetrics()
            .AddSingleton<TimeProvider>(Clock)
            .AddPerfOtelAnalytics(new ConfigurationBuilder().Build())
            .AddPerfOtelAnalyticsExposition()
            .BuildServiceProvider();
        Exposition = services.GetRequiredService<AnalyticsExposition>();
        Windows = services.GetRequiredService<RollingWindows>();
        // The analytics' derivations in the composition root's order (the cardinality guard's first), as the writer applies them.
        Observer = new DerivationPipeline(
            [services.GetRequiredService<CardinalityDerivation>(), services.GetRequiredService<AnalyticsDerivation>()],
            NullLogger<DerivationPipeline>.Instance);
    }

    public StoppedClock Clock { get; } = new(Now);

    public AnalyticsExposition Exposition { get; }

    public RollingWindows Windows { get; }

    public DerivationPipeline Observer { get; }

    /// <summary>One committed batch: an invocation with confidence, its provider call and an accuracy evaluation.</summary>
    public IngestBatch Batch(string agent, DateTimeOffset start)
    {
        var id = Interlocked.Increment(ref sequence);
        var invocation = new AgentInvocation
        {
            Tenant = "default",
            TraceId = id.ToString("x32"),
            SpanId = id.ToString("x16"),
            AgentName = agent,
            StartTime = start,
            DurationSeconds = 0.2 + (id % 37) * 0.1,
            Outcome = id % 7 == 0 ? Outcomes.Failure : Outcomes.Success,
            Confidence = (id % 10) / 10.0 + 0.05,
            TaskType = (id % 3) switch { 0 => "plan", 1 => "code", _ => "review" },
        };
        var batch = new IngestBatch();
        batch.Invocations.Add(invocation);
        batch.ProviderCalls.Add(new ProviderCall
        {
            Tenant = "default",
            TraceId = invocation.TraceId,
            SpanId = (id + 1).ToString("x16"),
            AgentName = agent,
            Operation = GenAiOperations.Chat,
            Provider = "openai",
            StartTime = start,
            DurationSeconds = 0.1,
            Tokens = new TokenCounts(500, 120, 0, 0, 0),
            CostUsd = 0.002,
        });
        batch.Evaluations.Add(new EvaluationRecord
        {
            Tenant = "default",
            TraceId = invocation.TraceId,
            SpanId = invocation.SpanId,
            Sequence = 0,
            AgentName = agent,
            Name = "accuracy",
            Score = (id % 5) / 4.0,
            Time = start,
        });
        return batch;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => services.Dispose();
}
