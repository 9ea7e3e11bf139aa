namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>
/// The provider a call went to, from <c>server.address</c>, for spans that name no provider (no
/// <c>gen_ai.provider.name</c>, <c>gen_ai.system</c> or vendor attribute). The address may be a host name, as the
/// conventions say, or a whole endpoint URL, as Semantic Kernel writes it; only the host counts. Unknown hosts (a
/// self-hosted model server, a proxy) name no provider: the call is then stored under <c>unknown</c>.
/// </summary>
internal static class ProviderHosts
{
    // Host suffixes of the public endpoints, mapped to the gen_ai.provider.name well-known values.
    private static readonly (string HostSuffix, string Provider)[] Known =
    [
        ("api.openai.com", "openai"),
        (".openai.azure.com", "azure.ai.openai"),
        ("api.anthropic.com", "anthropic"),
        ("generativelanguage.googleapis.com", "gcp.gemini"),
        ("api.mistral.ai", "mistral_ai"),
        ("api.groq.com", "groq"),
        ("api.deepseek.com", "deepseek"),
        ("api.x.ai", "x_ai"),
        ("api.cohere.com", "cohere"),
        ("api.perplexity.ai", "perplexity"),
    ];

    public static string? ProviderOf(string? serverAddress)
    {
        if (Host(serverAddress) is not { } host)
        {
            return null;
        }

        foreach (var (suffix, provider) in Known)
        {
            if (host.Equals(suffix.TrimStart('.'), StringComparison.OrdinalIgnoreCase)
                || (suffix.StartsWith('.') && host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)))
            {
                return provider;
            }
        }

        return null;
    }

    /// <summary>The host of a <c>server.address</c> that is a host name or a URL.</summary>
    public static string? Host(string? serverAddress)
    {
        if (string.IsNullOrWhiteSpace(serverAddress))
        {
            return null;
        }

        if (serverAddress.Contains("://", StringComparison.Ordinal))
        {
            return Uri.TryCreate(serverAddress, UriKind.Absolute, out var uri) && uri.Host.Length > 0 ? uri.Host : null;
        }

        return serverAddress;
    }
}
