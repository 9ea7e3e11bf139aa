using System.Diagnostics;
using PerfOtel.Testing;

namespace PerfOtel.Alerting.Tests.Tools;

/// <summary>
/// Runs the real promtool and amtool binaries (scripts/install-test-deps.sh installs them). A missing tool fails the
/// test with the command that installs it: these checks are the point of the tests, so they are never skipped.
/// </summary>
internal static class PrometheusTool
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(6);

    public static ToolResult Promtool(params string[] arguments) => Run(Locate("promtool"), arguments);

    public static ToolResult Amtool(params string[] arguments) => Run(Locate("amtool"), arguments);

    private static string Locate(string name) =>
        ExternalProcess.FindOnPath(name)
        ?? throw new InvalidOperationException($"{name} not found on PATH: run `bash scripts/install-test-deps.sh` (installs Prometheus and Alertmanager with their tools).");

    private static ToolResult Run(string binary, string[] arguments)
    {
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + binary);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(binary)} {string.Join(' ', arguments)} did not finish in {Timeout.TotalMinutes} minutes");
        }
        return new ToolResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}

internal sealed record ToolResult(int ExitCode, string StdOut, string StdErr)
{
    public string Output => StdOut + StdErr;
}
