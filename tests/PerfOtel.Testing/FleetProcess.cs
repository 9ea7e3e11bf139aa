using System.Globalization;
using System.Text.RegularExpressions;

namespace PerfOtel.Testing;

/// <summary>Runs the simulated agent fleet (samples/AgentFleet) as its own process, as a user would.</summary>
public static partial class FleetProcess
{
    public static string AssemblyPath =>
        RepoPaths.Combine("samples", "AgentFleet", "bin", RepoPaths.Configuration, "net10.0", "AgentFleet.dll");

    /// <summary>Runs the fleet to completion (bounded) and returns what it printed and its invocation count.</summary>
    public static async Task<(int Invocations, string Output)> RunAsync(IEnumerable<string> arguments, TimeSpan timeout)
    {
        if (!File.Exists(AssemblyPath))
        {
            throw new InvalidOperationException($"{AssemblyPath} not built: build the solution first.");
        }
        await using var fleet = ExternalProcess.Start("dotnet", [AssemblyPath, .. arguments]);
        if (!await fleet.WaitForExitAsync(timeout))
        {
            throw new TimeoutException($"agent fleet still running after {timeout}:\n{fleet.Output}");
        }
        // Let the asynchronous output readers catch up with the last lines.
        await Task.Delay(200);
        if (fleet.ExitCode != 0)
        {
            throw new InvalidOperationException($"agent fleet exited with {fleet.ExitCode}:\n{fleet.Output}");
        }
        var match = InvocationsLine().Match(fleet.Output);
        if (!match.Success)
        {
            throw new InvalidOperationException("agent fleet printed no 'invocations: N' line:\n" + fleet.Output);
        }
        return (int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), fleet.Output);
    }

    [GeneratedRegex(@"^invocations: (\d+)$", RegexOptions.Multiline)]
    private static partial Regex InvocationsLine();
}
