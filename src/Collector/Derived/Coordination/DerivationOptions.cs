using Microsoft.Extensions.Options;

namespace PerfOtel.Collector.Derived.Coordination;

/// <summary>
/// Configuration section <c>Derivation</c>: who derives when several collector replicas share one store
/// (docs/collector/scale-out.md).
/// </summary>
public sealed class DerivationOptions
{
    public const string SectionName = "Derivation";

    /// <summary>
    /// <c>auto</c> (default): <c>shared</c> on a store several processes can share (PostgreSQL), else <c>single</c>.
    /// <c>single</c>: this process derives from its own commits and its start-up replay (one replica only).
    /// <c>shared</c>: one replica, the holder of a PostgreSQL advisory lock, derives from what every replica commits.
    /// </summary>
    public string Mode { get; set; } = DerivationModes.Auto;

    /// <summary>How often a replica that is not the leader tries to take the leadership over. Default 5 s.</summary>
    public TimeSpan LeaderRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the leader reads what the other replicas committed. Default 1 s.</summary>
    public TimeSpan TailInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>The values of <see cref="DerivationOptions.Mode"/>.</summary>
public static class DerivationModes
{
    public const string Auto = "auto";
    public const string Single = "single";
    public const string Shared = "shared";
}

internal sealed class DerivationOptionsValidator : IValidateOptions<DerivationOptions>
{
    public ValidateOptionsResult Validate(string? name, DerivationOptions options)
    {
        var failures = new List<string>();
        if (options.Mode?.Trim().ToLowerInvariant() is not (DerivationModes.Auto or DerivationModes.Single or DerivationModes.Shared))
        {
            failures.Add($"Derivation:Mode must be auto, single or shared (was '{options.Mode}').");
        }

        if (options.LeaderRetryInterval <= TimeSpan.Zero || options.LeaderRetryInterval > TimeSpan.FromMinutes(10))
        {
            failures.Add($"Derivation:LeaderRetryInterval must be more than 0 and at most 00:10:00 (was {options.LeaderRetryInterval}).");
        }

        if (options.TailInterval <= TimeSpan.Zero || options.TailInterval > TimeSpan.FromMinutes(10))
        {
            failures.Add($"Derivation:TailInterval must be more than 0 and at most 00:10:00 (was {options.TailInterval}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
