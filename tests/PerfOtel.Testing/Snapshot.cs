using System.Runtime.CompilerServices;
using System.Text;
using Xunit.Sdk;

namespace PerfOtel.Testing;

/// <summary>
/// Golden-file assertions: compares text with <c>{TestFile}.{name}.verified.txt</c> beside the test source.
/// On mismatch it writes <c>*.received.txt</c> next to it and fails; set PERFOTEL_ACCEPT_SNAPSHOTS=1 to accept.
/// Hand-written because Verify (Verify.Xunit) cannot be restored from this project's package registry; the
/// verified/received file convention is Verify's.
/// </summary>
public static class Snapshot
{
    public static void Verify(string actual, string? name = null,
        [CallerFilePath] string sourceFile = "", [CallerMemberName] string member = "")
    {
        var directory = Path.GetDirectoryName(sourceFile)!;
        var stem = Path.GetFileNameWithoutExtension(sourceFile) + "." + (name ?? member);
        var verifiedPath = Path.Combine(directory, stem + ".verified.txt");
        var receivedPath = Path.Combine(directory, stem + ".received.txt");
        var normalized = Normalize(actual);

        if (Environment.GetEnvironmentVariable("PERFOTEL_ACCEPT_SNAPSHOTS") == "1")
        {
            File.WriteAllText(verifiedPath, normalized, new UTF8Encoding(false));
            if (File.Exists(receivedPath))
            {
                File.Delete(receivedPath);
            }
            return;
        }

        if (!File.Exists(verifiedPath))
        {
            File.WriteAllText(receivedPath, normalized, new UTF8Encoding(false));
            throw new XunitException($"No verified snapshot {verifiedPath}; wrote {receivedPath}. Review it and rename it to .verified.txt.");
        }

        var expected = Normalize(File.ReadAllText(verifiedPath));
        if (expected == normalized)
        {
            if (File.Exists(receivedPath))
            {
                File.Delete(receivedPath);
            }
            return;
        }

        File.WriteAllText(receivedPath, normalized, new UTF8Encoding(false));
        throw new XunitException($"Snapshot mismatch for {verifiedPath}; see {receivedPath}.\n{FirstDifference(expected, normalized)}");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (var i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            var el = i < e.Length ? e[i] : "<end>";
            var al = i < a.Length ? a[i] : "<end>";
            if (el != al)
            {
                return $"line {i + 1}:\n  expected: {el}\n  actual:   {al}";
            }
        }
        return "texts differ";
    }
}
