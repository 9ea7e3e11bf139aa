using System.Collections.Concurrent;
using AgentFleet.Feedback;
using PerfOtel.Instrumentation;

namespace AgentFleet.Fleet;

/// <summary>What the fleet run does: how long, how fast, with what randomness.</summary>
public sealed record FleetSettings
{
    public double DurationSeconds { get; init; } = 30;

    public double InvocationsPerSecond { get; init; } = 5;

    public int Seed { get; init; } = 42;

    public string Tenant { get; init; } = "default";

    public string? DegradedAgent { get; init; }

    public double FeedbackRatio { get; init; }

    /// <summary>Multiplies every simulated latency; tests shrink it to run the same fleet faster.</summary>
    public double LatencyScale { get; init; } = 1.0;
}

/// <summary>Counts of what the run did, by agent and outcome.</summary>
public sealed record FleetSummary(IReadOnlyDictionary<(string Agent, AgentOutcome Outcome), int> Invocations, int FeedbackPosted, int FeedbackFailed)
{
    public int Total => Invocations.Values.Sum();
}

/// <summary>
/// Starts invocation i at i / rate seconds until the duration ends, waits for those in flight, and stops by itself.
/// </summary>
public sealed class FleetRunner(FleetSettings settings, FeedbackPoster? feedback)
{
    public async Task<FleetSummary> RunAsync(CancellationToken cancellationToken)
    {
        var planner = new InvocationPlanner(settings.Seed, settings.DegradedAgent, settings.FeedbackRatio);
        var agent = new SimulatedAgent(settings.Tenant, settings.LatencyScale);
        var count = (int)Math.Floor(settings.DurationSeconds * settings.InvocationsPerSecond);
        var outcomes = new ConcurrentDictionary<(string, AgentOutcome), int>();
        var running = new List<Task>(count);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        for (var i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds(i / settings.InvocationsPerSecond);
            if (due > clock.Elapsed)
            {
                try
                {
                    await Task.Delay(due - clock.Elapsed, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            var plan = planner.Plan(i);
            running.Add(Task.Run(async () =>
            {
                try
                {
                    var result = await agent.RunAsync(plan, cancellationToken);
                    outcomes.AddOrUpdate((plan.Agent.Name, plan.Outcome), 1, (_, n) => n + 1);
                    feedback?.Schedule(result, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // Interrupted with the run (Ctrl+C): the invocation ended as a failure when its scope was disposed.
                }
            }, CancellationToken.None));
        }

        await Task.WhenAll(running);
        if (feedback is not null)
        {
            // Late feedback waits at most 6 s (scaled) and each post at most its HTTP timeout.
            await feedback.DrainAsync(TimeSpan.FromSeconds(20));
        }
        return new FleetSummary(outcomes.ToDictionary(), feedback?.Posted ?? 0, feedback?.Failed ?? 0);
    }
}
