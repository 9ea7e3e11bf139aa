namespace PerfOtel.Collector.Derived.Cost;

/// <summary>
/// Totals of the current UTC hour, day and month for one series. Each period keeps one slot: data of a newer period
/// starts it afresh, data of an older period than the slot's is left out (it belongs to a period that is over), so the
/// memory of a series is three totals whatever the traffic. Not thread-safe: owners lock.
/// </summary>
internal sealed class PeriodAccumulator
{
    private readonly DateTimeOffset[] starts = new DateTimeOffset[3];
    private readonly CostTotals[] totals = [CostTotals.Zero, CostTotals.Zero, CostTotals.Zero];

    /// <summary>
    /// Adds a call's figures in the periods containing <paramref name="time"/>. Times after <paramref name="now"/>
    /// (a skewed client clock) count in the current period, never in a future one.
    /// </summary>
    public void Add(DateTimeOffset time, DateTimeOffset now, CostTotals figures)
    {
        if (time > now)
        {
            time = now;
        }
        // Indexed: a foreach over the list's interface allocated an enumerator a call.
        var periods = CalendarPeriods.All;
        for (var p = 0; p < periods.Count; p++)
        {
            var period = periods[p];
            var i = (int)period;
            var start = period.StartOf(time);
            if (start > starts[i])
            {
                starts[i] = start;
                totals[i] = figures;
            }
            else if (start == starts[i])
            {
                totals[i] += figures;
            }
        }
    }

    /// <summary>The totals of the period containing <paramref name="now"/> (zero when nothing was added in it).</summary>
    public CostTotals Current(CalendarPeriod period, DateTimeOffset now) =>
        starts[(int)period] == period.StartOf(now) ? totals[(int)period] : CostTotals.Zero;
}
