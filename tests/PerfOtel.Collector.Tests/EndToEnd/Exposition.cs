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

    /// <summary>
    /// Scrapes /metrics until <paramref name="ready"/> holds: the collector serves analytics encoded by its background
    /// refresher, up to two refresh intervals old.
    /// </summary>
    public static async Task<string> ScrapeUntilAsync(HttpClient http, Func<string, bool> ready, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var text = await http.GetStringAsync(new Uri("metrics", UriKind.Relative));
            if (ready(text))
            {
                return text;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"/metrics did not show {what} within 30 s:\n{text}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>The sum of <c>perfotel_agent_window_invocations</c> over agents and outcomes in the 1h window.</summary>
    public static double WindowInvocations(string exposition) =>
        exposition.Split('\n')
            .Where(l => l.StartsWith("perfotel_agent_window_invocations{", StringComparison.Ordinal) && l.Contains("window=\"1h\"", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    /// <summary>
    /// The value of the one sample of <paramref name="name"/> whose labels, besides the OpenTelemetry scope ones, are
    /// exactly <paramref name="labels"/>; null when there is none.
    /// </summary>
    public static double? Sample(string exposition, string name, params (string Label, string Value)[] labels)
    {
        var expected = labels.Select(l => $"{l.Label}=\"{l.Value}\"").Order(StringComparer.Ordinal).ToList();
        var matches = exposition.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal))
            .Where(line => line[(name.Length + 1)..line.LastIndexOf('}')].Split(',')
                .Where(l => !l.StartsWith("otel_scope_", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal).SequenceEqual(expected))
            .ToList();
        if (matches.Count > 1)
        {
            throw new Xunit.Sdk.XunitException($"{matches.Count} samples of {name} with {string.Join(",", expected)}");
        }

        return matches.Count == 0
            ? null
            : double.Parse(matches[0][(matches[0].LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
