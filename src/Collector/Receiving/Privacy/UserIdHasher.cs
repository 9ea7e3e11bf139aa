using System.Security.Cryptography;
using System.Text;

namespace PerfOtel.Collector.Receiving.Privacy;

/// <summary>
/// Replaces a user identifier with HMAC-SHA256 under the configured key: the same user always gets the same value, so
/// records stay joinable per user, but without the key nobody can tell who it was or test a guess.
/// </summary>
internal sealed class UserIdHasher
{
    public const string Prefix = "hmac-sha256:";

    private readonly byte[]? _key;

    public UserIdHasher(string? key) => _key = string.IsNullOrEmpty(key) ? null : Encoding.UTF8.GetBytes(key);

    public bool HasKey => _key is not null;

    /// <summary>The keyed hash, or null when no key is configured (then the identifier must not be stored at all).</summary>
    public string? Hash(string userId)
    {
        if (_key is null)
        {
            return null;
        }

        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(userId), mac);
        return Prefix + Convert.ToHexStringLower(mac);
    }
}
