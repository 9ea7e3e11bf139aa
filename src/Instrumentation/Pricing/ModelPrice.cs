namespace PerfOtel.Instrumentation.Pricing;

/// <summary>
/// The price of a model in US dollars per million tokens. Prices left out fall back to the closest one charged
/// instead: cache reads and cache writes to <see cref="InputPerMillion"/>, reasoning to <see cref="OutputPerMillion"/>.
/// </summary>
/// <param name="InputPerMillion">USD per million uncached input tokens.</param>
/// <param name="OutputPerMillion">USD per million non-reasoning output tokens.</param>
/// <param name="CacheReadPerMillion">USD per million input tokens read from the prompt cache; null: the input price.</param>
/// <param name="CacheWritePerMillion">USD per million input tokens written to the prompt cache; null: the input price.</param>
/// <param name="ReasoningPerMillion">USD per million reasoning output tokens; null: the output price.</param>
public sealed record ModelPrice(
    double InputPerMillion,
    double OutputPerMillion,
    double? CacheReadPerMillion = null,
    double? CacheWritePerMillion = null,
    double? ReasoningPerMillion = null)
{
    private const double TokensPerUnit = 1_000_000.0;

    /// <summary>USD per million uncached input tokens.</summary>
    public double InputPerMillion { get; init; } = RequirePrice(InputPerMillion, nameof(InputPerMillion));

    /// <summary>USD per million non-reasoning output tokens.</summary>
    public double OutputPerMillion { get; init; } = RequirePrice(OutputPerMillion, nameof(OutputPerMillion));

    /// <summary>USD per million input tokens read from the prompt cache; null: the input price.</summary>
    public double? CacheReadPerMillion { get; init; } = RequireOptionalPrice(CacheReadPerMillion, nameof(CacheReadPerMillion));

    /// <summary>USD per million input tokens written to the prompt cache; null: the input price.</summary>
    public double? CacheWritePerMillion { get; init; } = RequireOptionalPrice(CacheWritePerMillion, nameof(CacheWritePerMillion));

    /// <summary>USD per million reasoning output tokens; null: the output price.</summary>
    public double? ReasoningPerMillion { get; init; } = RequireOptionalPrice(ReasoningPerMillion, nameof(ReasoningPerMillion));

    /// <summary>
    /// The cost of <paramref name="usage"/> in USD. Cached and reasoning tokens are parts of the input and output
    /// totals (see <see cref="TokenUsage"/>), so each token is charged once, at its own price. When the parts exceed
    /// their total (a provider that reports them apart), the total is raised to the sum of its parts.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A token count is negative.</exception>
    public double ComputeCost(TokenUsage usage)
    {
        RequireCount(usage.InputTokens, nameof(usage.InputTokens));
        RequireCount(usage.OutputTokens, nameof(usage.OutputTokens));
        RequireCount(usage.CacheReadInputTokens, nameof(usage.CacheReadInputTokens));
        RequireCount(usage.CacheCreationInputTokens, nameof(usage.CacheCreationInputTokens));
        RequireCount(usage.ReasoningOutputTokens, nameof(usage.ReasoningOutputTokens));

        var uncachedInput = Math.Max(0, usage.InputTokens - usage.CacheReadInputTokens - usage.CacheCreationInputTokens);
        var plainOutput = Math.Max(0, usage.OutputTokens - usage.ReasoningOutputTokens);
        var micro = (uncachedInput * InputPerMillion)
            + (usage.CacheReadInputTokens * (CacheReadPerMillion ?? InputPerMillion))
            + (usage.CacheCreationInputTokens * (CacheWritePerMillion ?? InputPerMillion))
            + (plainOutput * OutputPerMillion)
            + (usage.ReasoningOutputTokens * (ReasoningPerMillion ?? OutputPerMillion));
        return micro / TokensPerUnit;
    }

    private static double RequirePrice(double value, string name) =>
        double.IsFinite(value) && value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(name, value, "A price must be a finite, non-negative number of USD per million tokens.");

    private static double? RequireOptionalPrice(double? value, string name) =>
        value is { } price ? RequirePrice(price, name) : null;

    private static void RequireCount(long count, string name)
    {
        if (count < 0)
        {
            throw new ArgumentOutOfRangeException(name, count, "Token counts cannot be negative.");
        }
    }
}
