using System.Diagnostics;

namespace PerfOtel.Instrumentation.Implementation;

/// <summary>
/// Makes the span being measured <see cref="Activity.Current"/> while its duration is recorded. The OpenTelemetry
/// SDK's exemplar reservoirs take the trace and span id of an exemplar from <see cref="Activity.Current"/> at
/// measurement time (with <c>ExemplarFilterType.TraceBased</c> or <c>AlwaysOn</c>); a span ended from another async
/// flow, or after a child changed the ambient span, would otherwise give its histogram point no exemplar, or the wrong one.
/// </summary>
internal readonly struct MeasuredSpan : IDisposable
{
    private readonly Activity? measured;
    private readonly Activity? previous;

    private MeasuredSpan(Activity? measured, Activity? previous)
    {
        this.measured = measured;
        this.previous = previous;
    }

    public static MeasuredSpan Enter(Activity? span)
    {
        var previous = Activity.Current;
        if (span is null || ReferenceEquals(previous, span) || span.IsStopped)
        {
            return default;
        }
        Activity.Current = span;
        return new MeasuredSpan(span, previous);
    }

    public void Dispose()
    {
        if (measured is not null && ReferenceEquals(Activity.Current, measured))
        {
            Activity.Current = previous;
        }
    }
}
