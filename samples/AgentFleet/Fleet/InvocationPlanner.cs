using System.Globalization;
using System.Text.Json.Nodes;
using PerfOtel.Instrumentation;
using PerfOtel.Instrumentation.Pricing;

namespace AgentFleet.Fleet;

/// <summary>Draws invocation plans. Pure: the plan of invocation i depends only on the seed, i and the settings.</summary>
public sealed class InvocationPlanner(int seed, string? degradedAgent, double feedbackRatio)
{
    private static readonly string[] Labels = ["billing", "technical", "account", "sales", "shipping"];
    private static readonly string[] Cities = ["Lisbon", "Kyoto", "Oaxaca", "Tallinn", "Hobart"];
    private readonly double totalWeight = FleetCatalog.Agents.Sum(a => a.Weight);

    public InvocationPlan Plan(int index)
    {
        // A generator per invocation, so that the plan does not depend on the order invocations run in. Its seed is
        // mixed by a fixed function: HashCode.Combine is randomised per process, so the same --seed gave other plans in
        // every run. new Random(int) is the framework's stable seeded algorithm.
        var random = new Random(InvocationSeed(seed, index));
        var agent = PickAgent(random.NextDouble() * totalWeight);
        var degraded = string.Equals(agent.Name, degradedAgent, StringComparison.Ordinal);
        var latencyFactor = degraded ? 3.0 : 1.0;
        var taskId = string.Create(CultureInfo.InvariantCulture, $"{agent.Name}-{seed}-{index}");
        // The variant comes from the task id's hash, not from the generator: every other draw stays as it was.
        var variant = agent.Experiment?.Assignment.Assign(taskId);
        var primary = agent.Primary;
        if (agent.Experiment is { } experiment && variant == experiment.TreatmentVariant)
        {
            primary = experiment.TreatmentRoute;
            latencyFactor *= experiment.TreatmentLatencyFactor;
        }

        var tools = agent.Tools
            .Select(tool => new ToolPlan(tool, LogNormal(random, agent.ToolLatencyMedianSeconds) * latencyFactor, random.NextDouble() < 0.03 ? "tool_timeout" : null))
            .ToList();
        var attempts = PlanAttempts(random, agent, primary, degraded ? Math.Max(agent.ProviderFailureRate, 0.35) : agent.ProviderFailureRate, latencyFactor);
        var answered = attempts[^1].FailureType is null;

        double? confidence = agent.Confidence switch
        {
            // Calibrated agents are also healthy ones: they state a high chance and achieve it, so a normal fleet meets
            // the default thresholds and the 95 % success SLO; only deliberate quirks and --agent-degraded raise alerts.
            ConfidenceModel.Calibrated => Math.Round(0.95 + (random.NextDouble() * 0.049), 3),
            ConfidenceModel.Overconfident => Math.Round(0.85 + (random.NextDouble() * 0.14), 3),
            _ => null,
        };
        var successChance = agent.Confidence switch
        {
            ConfidenceModel.Calibrated => confidence!.Value,
            ConfidenceModel.Overconfident => 0.6,
            _ => 0.98,
        };
        if (degraded)
        {
            successChance = Math.Min(successChance, 0.4);
        }
        var correct = random.NextDouble() < successChance;
        var outcome = !answered || !correct ? AgentOutcome.Failure
            : random.NextDouble() < agent.PartialRate ? AgentOutcome.Partial
            : AgentOutcome.Success;
        var errorType = !answered ? "provider_unavailable" : !correct ? "wrong_answer" : null;

        var (predicted, actual) = Answers(random, agent.Answers, correct);
        return new InvocationPlan
        {
            Agent = agent,
            Index = index,
            TaskId = taskId,
            Variant = variant,
            // From the index rather than the generator, so that adding task types leaves every other draw as it was.
            TaskType = agent.TaskTypes.Count > 0 ? agent.TaskTypes[index % agent.TaskTypes.Count] : agent.Answers.ToString().ToLowerInvariant(),
            Attempts = attempts,
            Tools = tools,
            Confidence = confidence,
            Outcome = outcome,
            ErrorType = errorType,
            Predicted = predicted,
            Actual = actual,
            JudgeScore = agent.JudgeName is null ? null : Math.Round(correct ? 0.7 + (random.NextDouble() * 0.3) : random.NextDouble() * 0.5, 3),
            Quality = agent.PartialRate > 0 ? Math.Round(correct ? 0.6 + (random.NextDouble() * 0.4) : random.NextDouble() * 0.4, 3) : null,
            FeedbackDelaySeconds = random.NextDouble() < feedbackRatio
                // Half right away (before the span's batch is exported), half a few seconds later.
                ? (random.NextDouble() < 0.5 ? 0 : 2 + (random.NextDouble() * 4))
                : null,
        };
    }

    /// <summary>SplitMix64's finaliser over (seed, index): well spread, and the same in every process and version.</summary>
    private static int InvocationSeed(int seed, int index)
    {
        var z = unchecked(((ulong)(uint)seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & int.MaxValue);
    }

    private AgentProfile PickAgent(double point)
    {
        foreach (var agent in FleetCatalog.Agents)
        {
            if (point < agent.Weight)
            {
                return agent;
            }
            point -= agent.Weight;
        }
        return FleetCatalog.Agents[^1];
    }

    private static List<AttemptPlan> PlanAttempts(Random random, AgentProfile agent, ModelRoute primary, double failureRate, double latencyFactor)
    {
        var attempts = new List<AttemptPlan>();
        // The primary is tried twice (a retry), then the fallback once.
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var failure = random.NextDouble() < failureRate ? (random.NextDouble() < 0.7 ? "rate_limited" : "timeout") : null;
            attempts.Add(Attempt(random, agent, primary, attempt, null, failure, latencyFactor));
            if (failure is null)
            {
                return attempts;
            }
        }
        if (agent.Fallback is { } fallback)
        {
            var failure = random.NextDouble() < failureRate / 2 ? "timeout" : null;
            attempts.Add(Attempt(random, agent, fallback, 1, primary.Label, failure, latencyFactor));
        }
        return attempts;
    }

    private static AttemptPlan Attempt(Random random, AgentProfile agent, ModelRoute route, int attempt, string? fallbackFrom, string? failure, double latencyFactor)
    {
        var latency = LogNormal(random, agent.ModelLatencyMedianSeconds) * latencyFactor;
        if (failure is not null)
        {
            // Failures answer fast (429) or at the client's timeout.
            return new AttemptPlan(route, attempt, fallbackFrom, failure, failure == "timeout" ? latency * 2 : latency * 0.1, default);
        }
        var input = (long)(LogNormal(random, agent.InputTokensMedian));
        var output = (long)(LogNormal(random, agent.OutputTokensMedian));
        var usage = new TokenUsage(input, output,
            CacheReadInputTokens: (long)(input * agent.CachedInputShare),
            ReasoningOutputTokens: (long)(output * agent.ReasoningOutputShare));
        return new AttemptPlan(route, attempt, fallbackFrom, null, latency, usage);
    }

    private static (JsonNode Predicted, JsonNode Actual) Answers(Random random, AnswerKind kind, bool correct)
    {
        switch (kind)
        {
            case AnswerKind.Number:
            {
                var actual = Math.Round(800 + (random.NextDouble() * 400), 1);
                var error = correct ? random.NextDouble() * 0.05 : 0.15 + (random.NextDouble() * 0.35);
                var predicted = Math.Round(actual * (1 + (random.NextDouble() < 0.5 ? -error : error)), 1);
                return (JsonValue.Create(predicted), JsonValue.Create(actual));
            }
            case AnswerKind.Structured:
            {
                var city = Cities[random.Next(Cities.Length)];
                var nights = random.Next(2, 10);
                var actual = new JsonObject { ["destination"] = city, ["nights"] = nights, ["refundable"] = true };
                var predicted = new JsonObject
                {
                    ["destination"] = city,
                    ["nights"] = correct ? nights : nights + random.Next(1, 4),
                    ["refundable"] = correct,
                };
                return (predicted, actual);
            }
            default:
            {
                var actual = Labels[random.Next(Labels.Length)];
                var predicted = correct ? actual : Labels[(Array.IndexOf(Labels, actual) + 1 + random.Next(Labels.Length - 1)) % Labels.Length];
                return (JsonValue.Create(predicted), JsonValue.Create(actual));
            }
        }
    }

    /// <summary>A log-normal draw with the given median and a spread (sigma 0.5) typical of LLM latencies and sizes.</summary>
    private static double LogNormal(Random random, double median)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        var normal = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        return median * Math.Exp(0.5 * Math.Clamp(normal, -3, 3));
    }
}
