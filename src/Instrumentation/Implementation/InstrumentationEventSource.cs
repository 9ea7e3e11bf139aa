using System.Diagnostics.Tracing;

namespace PerfOtel.Instrumentation.Implementation;

/// <summary>
/// Self-diagnostics: what the instrumentation dropped, clamped or failed to record, so that bad input never throws
/// into the agent and is never lost silently either. Listen with dotnet-trace/dotnet-counters or an EventListener on
/// <c>PerfOtel-Instrumentation</c>.
/// </summary>
[EventSource(Name = "PerfOtel-Instrumentation")]
internal sealed class InstrumentationEventSource : EventSource
{
    public static readonly InstrumentationEventSource Log = new();

    [Event(1, Level = EventLevel.Warning, Message = "Dropped {0}: {1} is not a valid value.")]
    public void ValueDropped(string what, string value) => WriteEvent(1, what, value);

    [Event(2, Level = EventLevel.Warning, Message = "Clamped {0}: {1} is outside [{2}, {3}].")]
    public void ValueClamped(string what, double value, double minimum, double maximum)
    {
        if (IsEnabled())
        {
            WriteEvent(2, what, value, minimum, maximum);
        }
    }

    [Event(3, Level = EventLevel.Warning, Message = "Replaced an empty {0} with '{1}'.")]
    public void EmptyNameReplaced(string what, string replacement) => WriteEvent(3, what, replacement);

    [Event(4, Level = EventLevel.Warning, Message = "Evaluation name '{0}' exceeds the limit of {1} distinct names; its metric points are recorded as '_OTHER'.")]
    public void EvaluationNameOverLimit(string name, int limit) => WriteEvent(4, name, limit);

    [Event(5, Level = EventLevel.Warning, Message = "No price for model '{1}' of provider '{0}'; its tokens are counted as unpriced.")]
    public void ModelUnpriced(string provider, string model) => WriteEvent(5, provider, model);

    [Event(6, Level = EventLevel.Error, Message = "Recording {0} failed and was skipped: {1}")]
    public void RecordingFailed(string operation, string exception) => WriteEvent(6, operation, exception);

    [Event(7, Level = EventLevel.Warning, Message = "The {0} scope was already ended; the call to {1} was ignored.")]
    public void ScopeAlreadyEnded(string scope, string call) => WriteEvent(7, scope, call);

    [Event(8, Level = EventLevel.Informational, Message = "Instrumentation registered with options '{0}'; pricing catalog version {1}.")]
    public void InstrumentationRegistered(string optionsName, string pricingVersion) => WriteEvent(8, optionsName, pricingVersion);

    [Event(9, Level = EventLevel.Warning, Message = "Could not attribute the GenAI span '{0}' of source '{1}': {2}")]
    public void AttributionFailed(string spanName, string sourceName, string reason)
    {
        if (IsEnabled())
        {
            WriteEvent(9, spanName, sourceName, reason);
        }
    }

    [NonEvent]
    public void ValueDropped(string what, double value)
    {
        if (IsEnabled(EventLevel.Warning, EventKeywords.All))
        {
            ValueDropped(what, value.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [NonEvent]
    public void RecordingFailed(string operation, Exception exception)
    {
        if (IsEnabled(EventLevel.Error, EventKeywords.All))
        {
            RecordingFailed(operation, exception.ToString());
        }
    }
}
