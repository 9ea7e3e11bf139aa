using System.Diagnostics;

namespace PerfOtel.Testing;

/// <summary>Prometheus's own linter, run on an exposition the way an operator checks a /metrics page.</summary>
public static class Promtool
{
    /// <summary>
    /// <c>promtool check metrics</c> on <paramref name="input"/>: exit code 0 when clean, 3 for lint findings only,
    /// 1 for a document Prometheus cannot parse; the output names the problems. Fails when promtool is not installed.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> CheckMetricsAsync(string input)
    {
        var promtool = ExternalProcess.FindOnPath("promtool")
            ?? throw new InvalidOperationException("promtool is not on PATH: run scripts/install-test-deps.sh (Prometheus 2.42)");
        var startInfo = new ProcessStartInfo(promtool)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("check");
        startInfo.ArgumentList.Add("metrics");
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("promtool did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, ((await stdout) + (await stderr)).Trim());
    }
}
