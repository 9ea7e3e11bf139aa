using PerfOtel.Instrumentation.Experiments;

namespace AgentFleet.Fleet;

/// <summary>The simulated fleet: five agents whose behaviours exercise every PerfOtel signal.</summary>
public static class FleetCatalog
{
    /// <summary>The experiment research-assistant runs (defined for the collector in scripts/run-stack.sh).</summary>
    public const string ResearchModelExperiment = "research-model";

    public static IReadOnlyList<AgentProfile> Agents { get; } =
    [
        new AgentProfile
        {
            Name = "support-triage",
            AgentType = "classifier",
            Weight = 3,
            Primary = new ModelRoute("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
            ProviderFailureRate = 0.02,
            ModelLatencyMedianSeconds = 0.35,
            InputTokensMedian = 900,
            OutputTokensMedian = 60,
            CachedInputShare = 0.5,
            Tools = ["lookup_customer"],
            TaskTypes = ["ticket_routing", "refund_request"],
            Confidence = ConfidenceModel.Calibrated,
            Answers = AnswerKind.Label,
        },
        new AgentProfile
        {
            Name = "sales-forecaster",
            AgentType = "forecaster",
            Weight = 2,
            Primary = new ModelRoute("anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
            ProviderFailureRate = 0.03,
            ModelLatencyMedianSeconds = 0.8,
            InputTokensMedian = 2500,
            OutputTokensMedian = 400,
            CachedInputShare = 0.3,
            Tools = ["query_warehouse"],
            TaskTypes = ["weekly_forecast", "quarterly_forecast"],
            Confidence = ConfidenceModel.Overconfident,
            Answers = AnswerKind.Number,
        },
        new AgentProfile
        {
            Name = "research-assistant",
            AgentType = "researcher",
            Weight = 2,
            Primary = new ModelRoute("openai", "gpt-4o", "gpt-4o-2024-08-06"),
            Fallback = new ModelRoute("anthropic", "claude-3-5-haiku", "claude-3-5-haiku-20241022"),
            ProviderFailureRate = 0.25,
            // With three tools, retries and fallbacks its invocations' p95 is about 3 s: well under the 5 s default
            // threshold even in a window of a few dozen invocations (at 0.9 s it was 3.6 s, and a window of 30
            // invocations drew a p95 above 5 s in about 6 % of draws: a healthy agent's latency alert in the whole-stack test).
            ModelLatencyMedianSeconds = 0.7,
            InputTokensMedian = 2500,
            OutputTokensMedian = 600,
            CachedInputShare = 0.4,
            Tools = ["web_search", "web_search", "fetch_page"],
            ToolLatencyMedianSeconds = 0.3,
            TaskTypes = ["literature_review", "fact_check"],
            Confidence = ConfidenceModel.Calibrated,
            Answers = AnswerKind.Structured,
            JudgeName = "judge.faithfulness",
            // Half of its tasks try the far cheaper gpt-4o-mini, which answers faster; success is unchanged, so the
            // experiment should end no_difference with a lower cost: the case for switching.
            Experiment = new FleetExperiment(
                new ExperimentAssignment(ResearchModelExperiment, new ExperimentVariant("control", 1), new ExperimentVariant("cheaper", 1)),
                "cheaper", new ModelRoute("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18"), TreatmentLatencyFactor: 0.7),
        },
        new AgentProfile
        {
            Name = "code-reviewer",
            AgentType = "reviewer",
            Weight = 1,
            Primary = new ModelRoute("vllm", "llama-3.1-70b-instruct", "llama-3.1-70b-instruct"),
            ProviderFailureRate = 0.05,
            ModelLatencyMedianSeconds = 1.2,
            InputTokensMedian = 2500,
            OutputTokensMedian = 600,
            TaskTypes = ["pull_request_review", "security_review"],
            Confidence = ConfidenceModel.Silent,
            Answers = AnswerKind.Label,
            JudgeName = "judge.correctness",
        },
        new AgentProfile
        {
            Name = "travel-planner",
            AgentType = "planner",
            Weight = 2,
            Primary = new ModelRoute("gcp.gemini", "gemini-2.5-flash", "gemini-2.5-flash"),
            Fallback = new ModelRoute("mistral_ai", "mistral-large-latest", "mistral-large-2411"),
            ProviderFailureRate = 0.08,
            ModelLatencyMedianSeconds = 0.9,
            InputTokensMedian = 1800,
            OutputTokensMedian = 500,
            ReasoningOutputShare = 0.4,
            Tools = ["search_flights", "search_hotels", "book_hotel"],
            ToolLatencyMedianSeconds = 0.2,
            TaskTypes = ["trip_plan", "hotel_booking"],
            Confidence = ConfidenceModel.Calibrated,
            PartialRate = 0.02,
            Answers = AnswerKind.Structured,
        },
    ];
}
