using Microsoft.Extensions.Options;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Coordination;

/// <summary>
/// Whether this process derives, and so exposes derived series. Alone on its store (<c>single</c>) it always does. On a
/// shared store only the derivation leader does: the others keep no derived state and expose only their self-metrics,
/// so that <c>sum</c> and <c>max</c> over the replicas' series equal one collector's (docs/collector/scale-out.md).
/// </summary>
public sealed class DerivationRole : Telemetry.IDerivationStatus
{
    private volatile bool deriving;
    private long caughtUpTicks;

    /// <summary>Decides the mode from <c>Derivation:Mode</c> and the registered store; fails naming the setting.</summary>
    public DerivationRole(IOptions<DerivationOptions> options, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        var mode = options.Value.Mode.Trim().ToLowerInvariant();
        var store = services.GetService<IExecutionStore>();
        SharedStore = store as ISharedStore;
        if (mode == DerivationModes.Shared && SharedStore is null)
        {
            throw new OptionsValidationException(DerivationOptions.SectionName, typeof(DerivationOptions),
                ["Derivation:Mode is 'shared' but the store is one process's own (SQLite): set Storage:Provider=postgres, or Derivation:Mode=single."]);
        }

        Shared = mode != DerivationModes.Single && SharedStore is not null;
        if (!Shared)
        {
            SharedStore = null;
        }
        deriving = !Shared;
        services.GetService<Telemetry.CollectorMetrics>()?.ObserveDerivation(this);
    }

    /// <summary>True when several replicas may share the store and only the leader derives.</summary>
    public bool Shared { get; }

    /// <summary>The shared store when <see cref="Shared"/>.</summary>
    public ISharedStore? SharedStore { get; }

    /// <summary>Whether this process derives now: always when alone, while it holds the leadership when shared.</summary>
    public bool IsDeriving => deriving;

    /// <summary>
    /// When the leader last finished reading everything committed before a watermark it took at that moment (shared mode,
    /// while leading); null otherwise. Its age bounds how far the derived values lag behind the store.
    /// </summary>
    public DateTimeOffset? CaughtUpAt
    {
        get
        {
            var ticks = Interlocked.Read(ref caughtUpTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    internal void BecomeLeader() => deriving = true;

    internal void StopDeriving()
    {
        deriving = false;
        Interlocked.Exchange(ref caughtUpTicks, 0);
    }

    internal void CaughtUp(DateTimeOffset watermarkTakenAt) => Interlocked.Exchange(ref caughtUpTicks, watermarkTakenAt.UtcTicks);
}
