namespace PerfOtel.Instrumentation.Implementation;

/// <summary>What both provider registrations do with their options.</summary>
internal static class Registration
{
    public static InstrumentationSettings Apply(string? name, Action<PerfOtelInstrumentationOptions>? configure)
    {
        var options = new PerfOtelInstrumentationOptions();
        configure?.Invoke(options);
        var settings = InstrumentationSettings.Apply(options);
        InstrumentationEventSource.Log.InstrumentationRegistered(name ?? "(default)", settings.Pricing.Version);
        return settings;
    }
}
