using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Instrumentation;

/// <summary>
/// A finished call to a model, for <see cref="AgentTelemetry.RecordProviderCall"/>: metrics only, no span, no
/// allocation. Use it when the call is known only afterwards (a gateway's log, a batch result).
/// </summary>
/// <param name="ProviderName"><c>gen_ai.provider.name</c>, e.g. <c>openai</c>.</param>
/// <param name="RequestModel"><c>gen_ai.request.model</c>.</param>
/// <param name="DurationSeconds">Duration of the call in seconds.</param>
public readonly record struct ProviderCallRecord(string ProviderName, string RequestModel, double DurationSeconds)
{
    /// <summary><c>gen_ai.operation.name</c>; default <c>chat</c>.</summary>
    public string Operation { get; init; } = GenAiOperations.Chat;

    /// <summary><c>gen_ai.response.model</c>, if known; preferred over the request model for pricing.</summary>
    public string? ResponseModel { get; init; }

    /// <summary>Tokens, if the provider reported them.</summary>
    public TokenUsage? Usage { get; init; }

    /// <summary>Cost in USD as billed, used instead of the pricing catalog.</summary>
    public double? CostUsd { get; init; }

    /// <summary><c>perfotel.retry.attempt</c>: 1 for the first try.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary><c>perfotel.fallback.from</c>: set when this call replaced a call to another provider or model.</summary>
    public string? FallbackFrom { get; init; }

    /// <summary><c>perfotel.fallback.reason</c>.</summary>
    public string? FallbackReason { get; init; }

    /// <summary><c>error.type</c> when the call failed.</summary>
    public string? ErrorType { get; init; }
}
