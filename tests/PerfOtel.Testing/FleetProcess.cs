using System.Globalization;
using System.Text.RegularExpressions;

namespace PerfOtel.Testing;

/// <summary>Runs the simulated agent fleet (samples/AgentFleet) as its own process, as a user would.</summary>
public static partial class FleetProcess
{
    public static string AssemblyPath =>
        RepoPaths.Combine("samples", "AgentFleet", "bin", RepoPaths.Configuration, "net10.0", "AgentFleet.dll");

    /// <summary>
    /// Starts the fleet and returns at once, for tests that watch the stack while the fleet runs; disposing the
    /// process kills it if it is still running.
    /// </summary>
    /// <summary>The experiment the fleet runs (research-assistant, gpt-4o-mini on half of its tasks).</summary>
    public const string Experiment = "research-model";

    /// <summary>
    /// The collector's definition of the fleet's experiment for <paramref name="tenant"/>, as scripts/run-stack.sh passes
    /// it: variants control and cheaper at 50/50, control the control, cost and latency guardrails of 10 % and 20 %.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ExperimentSettings(string tenant)
    {
        var key = $"Experiments:Definitions:{tenant}:{Experiment}";
        return new Dictionary<string, string>
        {
            [$"{key}:Variants:control"] = "1",
            [$"{key}:Variants:cheaper"] = "1",
            [$"{key}:Control"] = "control",
            [$"{key}:Guardrails:cost"] = "0.1",
            [$"{key}:Guardrails:latency"] = "0.2",
        };
    }

    public static ExternalProcess StartInBackground(IEnumerable<string> arguments)
    {
        if (!File.Exists(AssemblyPath))
        {
            throw new InvalidOperationException($"{AssemblyPath} not built: build the solution first.");
        }
        return ExternalProcess.Start("dotnet", [AssemblyPath, .. arguments]);
    }

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
