using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace PerfOtel.Collector.Security;

/// <summary>
/// Authentication off is meant for the embedded quick start on loopback. Once the server has bound its addresses
/// (the configured URLs may be wildcards or host names), any address other machines could reach gets a warning.
/// </summary>
internal static partial class ExposureWarning
{
    public static void CheckBoundAddresses(IServiceProvider services)
    {
        var keys = services.GetRequiredService<ApiKeyRegistry>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ExposureWarning));
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        LogListening(logger, string.Join(", ", addresses), keys.Enabled ? $"on with {keys.Count} keys" : "off");
        if (keys.Enabled)
        {
            return;
        }

        var exposed = addresses.Where(a => !IsLoopback(a)).ToList();
        if (exposed.Count > 0)
        {
            LogExposed(logger, string.Join(", ", exposed));
        }
    }

    internal static bool IsLoopback(string address)
    {
        string host;
        try
        {
            host = BindingAddress.Parse(address).Host;
        }
        catch (FormatException)
        {
            return false;
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // Wildcards (0.0.0.0, [::], *, +) and host names are reachable from elsewhere, or may be.
        return IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
    }

    [LoggerMessage(EventId = 61, Level = LogLevel.Warning, Message =
        "Authentication is OFF and the collector listens on {Addresses}, which other machines can reach: anyone there " +
        "can send data as any tenant and read every tenant's data. Set Auth:Enabled=true with Auth:Keys (see " +
        "docs/collector/security-and-privacy.md), or listen on loopback only.")]
    private static partial void LogExposed(ILogger logger, string addresses);

    [LoggerMessage(EventId = 62, Level = LogLevel.Information, Message = "Listening on {Addresses}; API-key authentication is {State}")]
    private static partial void LogListening(ILogger logger, string addresses, string state);
}
