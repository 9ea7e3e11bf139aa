namespace PerfOtel.Exporter.Tests.TestSupport;

internal static class ExternalTool
{
    /// <summary>Full path of a tool on PATH; fails the test with the install hint when it is missing.</summary>
    public static string Require(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new Xunit.Sdk.XunitException(
            $"'{name}' is not on PATH. Install the test dependencies with `bash scripts/install-test-deps.sh` (Prometheus 2.42 or later).");
    }
}
