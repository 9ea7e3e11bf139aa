using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived;

/// <summary>
/// One derived feature (analytics windows, cost ledger, budgets, model comparison, experiments, cardinality guard, ...)
/// fed through the one seam: <see cref="DerivationPipeline"/> calls <see cref="Apply"/> with every committed batch, from
/// the ingest writer's live commits and from the one start-up replay of the store (<see cref="DerivationReplay"/>).
/// A derivation's state is therefore a function of what is stored: it has no other input and no rebuild of its own.
/// Registered only by the composition root (src/Collector/Hosting), which fixes the order. See docs/architecture.md,
/// principle 7.
/// </summary>
public interface IDerivation
{
    /// <summary>A stable, unique name (logs, the replay's report, tests that enumerate the derivations).</summary>
    string Name { get; }

    /// <summary>
    /// Folds one committed batch into the derivation's state: the records stored for the first time and the feedback
    /// joined to invocations (<see cref="IngestBatch.JoinedFeedback"/>). Called in commit order, one batch at a time,
    /// never concurrently (alone on its store by the writer's applier, behind the next commit; otherwise on the writer's
    /// path): must be fast and must not throw. A record is never passed twice.
    /// </summary>
    void Apply(IngestBatch committed);
}
