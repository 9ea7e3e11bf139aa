namespace PerfOtel.Collector.Derived.Cost;

/// <summary>A UTC calendar period that costs are totalled over and budgets are set for.</summary>
public enum CalendarPeriod
{
    /// <summary>The UTC clock hour.</summary>
    Hourly,

    /// <summary>The UTC calendar day.</summary>
    Daily,

    /// <summary>The UTC calendar month.</summary>
    Monthly,
}

/// <summary>Arithmetic on UTC calendar periods.</summary>
public static class CalendarPeriods
{
    /// <summary>Every period, shortest first.</summary>
    public static IReadOnlyList<CalendarPeriod> All { get; } = [CalendarPeriod.Hourly, CalendarPeriod.Daily, CalendarPeriod.Monthly];

    /// <summary>The <c>period</c> label value and REST spelling: hourly, daily, monthly.</summary>
    public static string Label(this CalendarPeriod period) => period switch
    {
        CalendarPeriod.Hourly => "hourly",
        CalendarPeriod.Daily => "daily",
        _ => "monthly",
    };

    /// <summary>Parses a label value (case-insensitive); false for anything else.</summary>
    public static bool TryParse(string? text, out CalendarPeriod period)
    {
        foreach (var candidate in All)
        {
            if (string.Equals(candidate.Label(), text, StringComparison.OrdinalIgnoreCase))
            {
                period = candidate;
                return true;
            }
        }
        period = default;
        return false;
    }

    /// <summary>The start (UTC) of the period containing <paramref name="time"/>.</summary>
    public static DateTimeOffset StartOf(this CalendarPeriod period, DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return period switch
        {
            CalendarPeriod.Hourly => new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero),
            CalendarPeriod.Daily => new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero),
            _ => new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero),
        };
    }

    /// <summary>The end (exclusive, UTC) of the period starting at <paramref name="start"/>.</summary>
    public static DateTimeOffset EndOf(this CalendarPeriod period, DateTimeOffset start) => period switch
    {
        CalendarPeriod.Hourly => start.AddHours(1),
        CalendarPeriod.Daily => start.AddDays(1),
        _ => start.AddMonths(1),
    };

    /// <summary>
    /// The share of the UTC calendar month containing <paramref name="now"/> that has elapsed, in (0, 1]. It is floored
    /// at one hour of the month so that a projection made in the first minutes of a month does not divide by almost 0.
    /// </summary>
    public static double ElapsedFractionOfMonth(DateTimeOffset now)
    {
        var start = CalendarPeriod.Monthly.StartOf(now);
        var length = CalendarPeriod.Monthly.EndOf(start) - start;
        var elapsed = now - start;
        if (elapsed < TimeSpan.FromHours(1))
        {
            elapsed = TimeSpan.FromHours(1);
        }
        return elapsed / length;
    }
}
