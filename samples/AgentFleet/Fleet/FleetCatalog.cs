namespace AgentFleet.Fleet;

/// <summary>The simulated fleet: five agents whose behaviours exercise every PerfOtel signal.</summary>
public static class FleetCatalog
{
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
            ModelLatencyMedianSeconds = 1.2,
            InputTokensMedian = 2500,
            OutputTokensMedian = 400,
            CachedInputShare = 0.3,
            Tools = ["query_warehouse"],
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
            ProviderFailureRate = 0.3,
            ModelLatencyMedianSeconds = 1.8,
            InputTokensMedian = 6000,
            OutputTokensMedian = 900,
            CachedInputShare = 0.4,
            Tools = ["web_search", "web_search", "fetch_page"],
            ToolLatencyMedianSeconds = 0.3,
            Confidence = ConfidenceModel.Calibrated,
            Answers = AnswerKind.Structured,
            JudgeName = "judge.faithfulness",
        },
        new AgentProfile
        {
            Name = "code-reviewer",
            AgentType = "reviewer",
            Weight = 1,
            Primary = new ModelRoute("vllm", "llama-3.1-70b-instruct", "llama-3.1-70b-instruct"),
            ProviderFailureRate = 0.05,
            ModelLatencyMedianSeconds = 2.2,
            InputTokensMedian = 4000,
            OutputTokensMedian = 700,
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
            Confidence = ConfidenceModel.Calibrated,
            PartialRate = 0.15,
            Answers = AnswerKind.Structured,
        },
    ];
}
