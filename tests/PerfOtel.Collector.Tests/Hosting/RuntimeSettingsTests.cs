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
    public async Task The_collector_maps_no_ICU_library_and_still_takes_IANA_report_time_zones()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var runtimeConfig = Path.ChangeExtension(CollectorProcess.AssemblyPath, ".runtimeconfig.json");
        using (var document = JsonDocument.Parse(File.ReadAllText(runtimeConfig)))
        {
            Assert.True(document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties")
                .GetProperty("System.Globalization.Invariant").GetBoolean());
        }

        var directory = Directory.CreateTempSubdirectory("perfotel-icu-").FullName;
        try
        {
            // A schedule's time zone is validated at start-up (a bad one stops the start): an IANA id needs no ICU.
            // A user's culture in the environment changes nothing either.
            await using var collector = await CollectorProcess.StartAsync(directory, new Dictionary<string, string>
            {
                ["Reports:Schedules:weekly:Tenant"] = "default",
                ["Reports:Schedules:weekly:Cron"] = "0 8 * * 1",
                ["Reports:Schedules:weekly:TimeZone"] = "Europe/Paris",
                ["Reports:Schedules:weekly:Directory"] = Path.Combine(directory, "reports"),
            }, environment: new Dictionary<string, string> { ["LANG"] = "de_DE.UTF-8", ["LC_ALL"] = "de_DE.UTF-8" });
            using var http = new HttpClient { BaseAddress = collector.BaseAddress };
            Assert.True((await http.GetAsync(new Uri("metrics", UriKind.Relative))).IsSuccessStatusCode);

            var maps = await File.ReadAllTextAsync($"/proc/{collector.Process.Id}/maps");
            Assert.DoesNotContain("libicu", maps, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_image_caps_malloc_arenas_sets_the_gen0_budget_and_leaves_the_GC_mode_to_the_project()
    {
        var dockerfile = File.ReadAllText(RepoPaths.Combine("src", "Collector", "Dockerfile"));
        var environment = EnvLine().Matches(dockerfile).Select(m => m.Groups["name"].Value + "=" + m.Groups["value"].Value).ToList();

        Assert.Contains("MALLOC_ARENA_MAX=2", environment);
        // The one GC setting the runtime reads from the environment only (the load driver starts the collector with
        // the image's environment, IngestLoadDriver.ImageEnvironment, so its figures are the image's).
        Assert.Contains("DOTNET_GCgen0size=0x1000000", environment);
        // The GC mode stays the project's (runtimeconfig.json), the same for every way of running the collector.
        Assert.DoesNotContain(environment, e => e.StartsWith("DOTNET_gcServer", StringComparison.OrdinalIgnoreCase)
            || e.StartsWith("DOTNET_gcConcurrent", StringComparison.OrdinalIgnoreCase) || e.StartsWith("COMPlus_", StringComparison.OrdinalIgnoreCase));
    }

    // NAME=VALUE pairs of ENV instructions, one per line (continued with a backslash) or after ENV itself.
    [GeneratedRegex(@"^(?:ENV\s+)?\s*(?<name>[A-Za-z_][A-Za-z0-9_]*)=(?<value>[^\s\\]+)", RegexOptions.Multiline)]
    private static partial Regex EnvLine();
}
