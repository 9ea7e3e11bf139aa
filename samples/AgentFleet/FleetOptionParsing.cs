using System.CommandLine.Parsing;
using AgentFleet.Fleet;

namespace AgentFleet;

/// <summary>Checks of the command line that give a clear message instead of a stack trace.</summary>
internal static class FleetOptionParsing
{
    public static Uri? ParseEndpoint(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
        if (text is null)
        {
            return null;
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            result.AddError($"--endpoint must be an absolute http(s) URL, not '{text}'.");
            return null;
        }
        // A base URL: signal paths are appended to it.
        return new Uri(uri.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/");
    }

    public static void RequirePositive(OptionResult result, string name)
    {
        var value = result.GetValueOrDefault<double>();
        if (!double.IsFinite(value) || value <= 0)
        {
            result.AddError($"{name} must be a positive number.");
        }
    }

    public static void RequireRatio(OptionResult result)
    {
        var value = result.GetValueOrDefault<double>();
        if (!double.IsFinite(value) || value is < 0 or > 1)
        {
            result.AddError("--feedback must be a ratio from 0 to 1.");
        }
    }

    public static void RequirePort(OptionResult result)
    {
        if (result.GetValueOrDefault<int?>() is { } port && port is < 1 or > 65535)
        {
            result.AddError("--prometheus-port must be from 1 to 65535.");
        }
    }

    public static void RequireKnownAgent(OptionResult result)
    {
        var name = result.GetValueOrDefault<string?>();
        if (name is not null && FleetCatalog.Agents.All(a => a.Name != name))
        {
            result.AddError($"--agent-degraded must name an agent of the fleet: {string.Join(", ", FleetCatalog.Agents.Select(a => a.Name))}.");
        }
    }
}
