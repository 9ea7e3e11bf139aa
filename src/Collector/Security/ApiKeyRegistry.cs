using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace PerfOtel.Collector.Security;

/// <summary>The configured keys, loaded once at start-up (the options were validated before this is built).</summary>
internal sealed class ApiKeyRegistry
{
    private readonly IReadOnlyList<ApiKey> _keys;

    public ApiKeyRegistry(IOptions<AuthOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Enabled = options.Value.Enabled;
        var (keys, problems) = ApiKeyConfiguration.Load(options.Value);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, problems));
        }

        _keys = keys;
    }

    public bool Enabled { get; }

    public int Count => _keys.Count;

    /// <summary>The key whose hash matches, or null.</summary>
    public ApiKey? Find(string presented)
    {
        var hash = ApiKeyHash.Hash(presented);
        ApiKey? match = null;
        // Every key is compared, in constant time, so neither the answer time nor an early exit tells which key is near.
        foreach (var key in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, key.Hash))
            {
                match = key;
            }
        }

        return match;
    }
}

internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (_, problems) = ApiKeyConfiguration.Load(options);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
