namespace PerfOtel.Instrumentation.Implementation;

/// <summary>
/// Turns bad input into something recordable (or nothing) and says so through the EventSource: the instrumentation
/// must never throw into the agent it observes.
/// </summary>
internal static class InputGuard
{
    public const string UnknownName = "unknown";
    public const int MaxNameLength = 256;

    public static string Name(string? value, string what)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            InstrumentationEventSource.Log.EmptyNameReplaced(what, UnknownName);
            return UnknownName;
        }
        if (value.Length > MaxNameLength)
        {
            InstrumentationEventSource.Log.ValueDropped(what + " (truncated to 256 characters)", value[..64] + "...");
            return value[..MaxNameLength];
        }
        return value;
    }

    public static string? OptionalName(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null : value.Length > MaxNameLength ? value[..MaxNameLength] : value;

    public static long TokenCount(long value, string what)
    {
        if (value >= 0)
        {
            return value;
        }
        InstrumentationEventSource.Log.ValueClamped(what, value, 0, long.MaxValue);
        return 0;
    }

    public static long TokenCount(double value, string what)
    {
        if (double.IsNaN(value))
        {
            InstrumentationEventSource.Log.ValueDropped(what, value);
            return 0;
        }
        if (value < 0)
        {
            InstrumentationEventSource.Log.ValueClamped(what, value, 0, long.MaxValue);
            return 0;
        }
        return value >= long.MaxValue ? long.MaxValue : (long)Math.Round(value);
    }

    /// <summary>A value in [0, 1]: NaN is dropped (null), anything else outside is clamped.</summary>
    public static double? UnitInterval(double value, string what)
    {
        if (double.IsNaN(value))
        {
            InstrumentationEventSource.Log.ValueDropped(what, value);
            return null;
        }
        if (value is < 0 or > 1)
        {
            InstrumentationEventSource.Log.ValueClamped(what, value, 0, 1);
            return Math.Clamp(value, 0, 1);
        }
        return value;
    }

    /// <summary>A cost in USD: finite and non-negative, otherwise dropped (null).</summary>
    public static double? Cost(double value, string what)
    {
        if (double.IsFinite(value) && value >= 0)
        {
            return value;
        }
        InstrumentationEventSource.Log.ValueDropped(what, value);
        return null;
    }
}
