using System.Security.Cryptography;
using System.Text;

namespace PerfOtel.Collector.Security;

/// <summary>
/// How keys are made and hashed. Keys are 256-bit random tokens, so a single fast SHA-256 is enough: there is nothing
/// to brute-force that a slow password hash would protect, and every request pays for the hash.
/// </summary>
public static class ApiKeyHash
{
    // A recognisable prefix lets secret scanners and people tell a PerfOtel key from other tokens.
    public const string KeyPrefix = "perfotel_";

    public const int HashHexLength = 64;

    public static string NewKey() => KeyPrefix + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return SHA256.HashData(Encoding.UTF8.GetBytes(key));
    }

    public static string HashHex(string key) => Convert.ToHexStringLower(Hash(key));

    public static bool TryParseHex(string? text, out byte[] hash)
    {
        hash = [];
        if (text is null || text.Length != HashHexLength || !text.All(Uri.IsHexDigit))
        {
            return false;
        }

        hash = Convert.FromHexString(text);
        return true;
    }

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
