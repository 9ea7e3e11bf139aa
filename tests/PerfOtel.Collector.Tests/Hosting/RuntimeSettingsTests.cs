using System.Text.Json;
using System.Text.RegularExpressions;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Hosting;

/// <summary>
/// The collector's memory settings (docs/collector/otlp-ingest.md, "Memory under sustained load"): the GC mode is the
/// project's, so `dotnet PerfOtel.Collector.dll` and the container image run the same GC; glibc's arena cap is in the
/// image's environment, the only place it takes effect (glibc reads it at process start).
/// </summary>
public sealed partial class RuntimeSettingsTests
{
    [Fact]
    public void The_built_collector_runs_workstation_GC_with_background_collections()
    {
        var runtimeConfig = Path.ChangeExtension(CollectorProcess.AssemblyPath, ".runtimeconfig.json");
        using var document = JsonDocument.Parse(File.ReadAllText(runtimeConfig));
        var properties = document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.False(properties.GetProperty("System.GC.Server").GetBoolean());
        Assert.True(properties.GetProperty("System.GC.Concurrent").GetBoolean());
    }

    [Fact]
    public void The_image_caps_malloc_arenas_and_leaves_the_GC_mode_to_the_project()
    {
        var dockerfile = File.ReadAllText(RepoPaths.Combine("src", "Collector", "Dockerfile"));
        var environment = EnvLine().Matches(dockerfile).Select(m => m.Groups["name"].Value + "=" + m.Groups["value"].Value).ToList();

        Assert.Contains("MALLOC_ARENA_MAX=2", environment);
        Assert.DoesNotContain(environment, e => e.StartsWith("DOTNET_gc", StringComparison.OrdinalIgnoreCase)
            || e.StartsWith("DOTNET_GC", StringComparison.Ordinal) || e.StartsWith("COMPlus_", StringComparison.OrdinalIgnoreCase));
    }

    // NAME=VALUE pairs of ENV instructions, one per line (continued with a backslash) or after ENV itself.
    [GeneratedRegex(@"^(?:ENV\s+)?\s*(?<name>[A-Za-z_][A-Za-z0-9_]*)=(?<value>[^\s\\]+)", RegexOptions.Multiline)]
    private static partial Regex EnvLine();
}
