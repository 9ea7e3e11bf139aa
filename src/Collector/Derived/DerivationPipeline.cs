using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived;

/// <summary>
/// The derivations in the order the composition root registered them, fed one committed batch at a time. Later
/// derivations may read what earlier ones recorded for the same batch (the model comparison reads the attribution
/// index), so the order is part of the contract. Live commits and the start-up replay both come through here, under
/// one lock, so that no batch is applied concurrently with another.
/// </summary>
public sealed partial class DerivationPipeline
{
    private readonly IDerivation[] derivations;
    private readonly ILogger<DerivationPipeline> logger;
    private readonly Lock gate = new();

    /// <summary>A pipeline over <paramref name="derivations"/>, applied in the given order.</summary>
    public DerivationPipeline(IReadOnlyList<IDerivation> derivations, ILogger<DerivationPipeline> logger)
    {
        ArgumentNullException.ThrowIfNull(derivations);
        var duplicate = derivations.GroupBy(d => d.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two derivations are named '{duplicate.Key}': names must be unique.");
        }
        this.derivations = [.. derivations];
        this.logger = logger;
    }

    /// <summary>The registered derivations, in order.</summary>
    public IReadOnlyList<IDerivation> Derivations => derivations;

    /// <summary>Applies a committed batch to every derivation in order; one derivation's failure does not stop the others.</summary>
    public void Apply(IngestBatch committed)
    {
        ArgumentNullException.ThrowIfNull(committed);
        if (committed.Count == 0 && committed.JoinedFeedback.Count == 0)
        {
            return;
        }
        lock (gate)
        {
            foreach (var derivation in derivations)
            {
                try
                {
                    derivation.Apply(committed);
                }
#pragma warning disable CA1031 // The batch is committed: a derivation's bug must not undo the acknowledgement nor stop the others.
                catch (Exception error)
#pragma warning restore CA1031
                {
                    LogDerivationFailed(logger, derivation.Name, error);
                }
            }
        }
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Error, Message = "Derivation {Derivation} could not apply a committed batch; its figures undercount until the next restart replays the store.")]
    private static partial void LogDerivationFailed(ILogger logger, string derivation, Exception error);
}
