using System.Globalization;

namespace PerfOtel.Collector.Tests.EndToEnd;

/// <summary>Reads one sample out of a Prometheus text exposition.</summary>
internal static class Exposition
{
    /// <summary>The value of <paramref name="name"/> for an agent in the 1h window.</summary>
    public static double AgentGauge(string exposition, string name, string agent)
    {
        var line = exposition.Split('\n').FirstOrDefault(l =>
            l.StartsWith(name + "{", StringComparison.Ordinal)
            && l.Contains($"agent=\"{agent}\"", StringComparison.Ordinal)
            && l.Contains("window=\"1h\"", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"{name} for {agent} (window 1h) not exposed");
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}
