using PerfOtel.Collector.Derived.Kernel;
namespace PerfOtel.Collector.Derived.Analytics.Formulas;

/// <summary>Direction of a trend, with the gauge values of <c>perfotel_agent_trend</c>.</summary>
public enum TrendDirection
{
    /// <summary>-1: the metric moved the wrong way by more than the stable band.</summary>
    Degrading = -1,

    /// <summary>0: within the stable band.</summary>
    Stable = 0,

    /// <summary>1: the metric moved the right way by more than the stable band.</summary>
    Improving = 1,
}

/// <summary>
/// Trend of a metric (docs/architecture.md, Derivations): relative change r = (current - previous) / |previous| of the current
/// window against the previous window of the same length. |r| &lt;= 5 % is stable (the boundary itself is stable);
/// otherwise improving or degrading by the metric's direction: latency, cost, tokens and error rate improve when they
/// fall, the others when they rise. No trend (null) when either window lacks the value, or when the previous value is
/// 0 and the current differs (relative change undefined); 0 to 0 is stable.
/// </summary>
public static class TrendFormula
{
    /// <summary>The stable band: relative changes within +-5 % are stable.</summary>
    public const double StableBand = 0.05;

    // Relative changes are computed in binary floating point: 105 against 100 gives 0.05000000000000007. A tolerance
    // far below any meaningful change keeps "exactly 5 %" on the stable side as the definition says.
    private const double BoundaryTolerance = 1e-9;

    /// <summary>Relative change of current against previous; null when undefined.</summary>
    public static double? RelativeChange(double? current, double? previous)
    {
        if (current is not { } c || previous is not { } p)
        {
            return null;
        }
        if (p == 0)
        {
            return c == 0 ? 0 : null;
        }
        return (c - p) / Math.Abs(p);
    }

    /// <summary>The trend direction; null when the relative change is undefined.</summary>
    public static TrendDirection? Direction(double? current, double? previous, bool higherIsBetter)
    {
        if (RelativeChange(current, previous) is not { } change)
        {
            return null;
        }
        if (Math.Abs(change) <= StableBand + BoundaryTolerance)
        {
            return TrendDirection.Stable;
        }
        var rose = change > 0;
        return rose == higherIsBetter ? TrendDirection.Improving : TrendDirection.Degrading;
    }
}
