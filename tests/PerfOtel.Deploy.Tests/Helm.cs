using System.Diagnostics;
using PerfOtel.Testing;
using YamlDotNet.RepresentationModel;

namespace PerfOtel.Deploy.Tests;

/// <summary>Runs the real Helm binary (installed by scripts/install-helm.sh) against the chart.</summary>
internal static class Helm
{
    public static string ChartDirectory => RepoPaths.Combine("deploy", "helm", "perfotel");

    public static string Binary { get; } = Locate();

    private static string Locate()
    {
        var fromEnv = Environment.GetEnvironmentVariable("PERFOTEL_HELM");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(fromEnv))
        {
            return fromEnv;
        }
        var local = RepoPaths.Combine(".tools", "helm", "helm");
        if (File.Exists(local))
        {
            return local;
        }
        var onPath = ExternalProcess.FindOnPath("helm");
        if (onPath is not null)
        {
            return onPath;
        }
        throw new InvalidOperationException("helm not found: run scripts/install-helm.sh (or set PERFOTEL_HELM).");
    }

    public static (int ExitCode, string StdOut, string StdErr) Run(params string[] args)
    {
        var psi = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = ChartDirectory,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("helm " + string.Join(' ', args) + " did not finish in 2 minutes");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Renders the chart and parses every document; fails the test on a Helm error.</summary>
    public static Rendered Template(params string[] extraArgs)
    {
        var (code, stdout, stderr) = Run(["template", "perfotel", ".", "--namespace", "observability", .. extraArgs]);
        Assert.True(code == 0, $"helm template failed ({code}): {stderr}");
        var stream = new YamlStream();
        stream.Load(new StringReader(stdout));
        var docs = stream.Documents
            .Select(d => d.RootNode)
            .OfType<YamlMappingNode>()
            .ToList();
        return new Rendered(docs);
    }
}

/// <summary>Rendered Kubernetes objects with small navigation helpers.</summary>
internal sealed class Rendered(IReadOnlyList<YamlMappingNode> objects)
{
    public IReadOnlyList<YamlMappingNode> Objects => objects;

    public IEnumerable<YamlMappingNode> OfKind(string kind) => objects.Where(o => Yaml.Str(o, "kind") == kind);

    public YamlMappingNode Single(string kind)
    {
        var found = OfKind(kind).ToList();
        Assert.True(found.Count == 1, $"expected one {kind}, found {found.Count}");
        return found[0];
    }

    public bool Has(string kind) => OfKind(kind).Any();

    /// <summary>The collector configuration the chart renders: the ConfigMap's <c>perfotel.json</c>.</summary>
    public string CollectorConfig() =>
        Yaml.Str(OfKind("ConfigMap").Single(c => Yaml.Node(c, "data.[perfotel.json]") is not null), "data.[perfotel.json]")!;

    /// <summary>The first container of the Deployment's pod.</summary>
    public YamlMappingNode CollectorContainer() => Yaml.Map(Single("Deployment"), "spec.template.spec.containers.0");
}

/// <summary>
/// A scratch directory for tests that start the collector from what the chart renders, as Kubernetes would mount it;
/// deleted when the test ends.
/// </summary>
internal sealed class ChartScratch(string name) : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory($"perfotel-chart-{name}-").FullName;

    public string Combine(string relative) => Path.Combine(Directory, relative);

    /// <summary>Renders the chart with <paramref name="valuesFile"/> (under the chart's ci/) and writes its collector configuration here.</summary>
    public async Task<string> WriteRenderedConfigAsync(string valuesFile)
    {
        var rendered = Helm.Template("-f", Path.Combine("ci", valuesFile));
        return await WriteConfigAsync(rendered).ConfigureAwait(false);
    }

    /// <summary>Writes the collector configuration of <paramref name="rendered"/> as <c>perfotel.json</c> here.</summary>
    public async Task<string> WriteConfigAsync(Rendered rendered)
    {
        var configPath = Combine("perfotel.json");
        await File.WriteAllTextAsync(configPath, rendered.CollectorConfig()).ConfigureAwait(false);
        return configPath;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Path lookups into YamlDotNet nodes: "spec.template.spec.containers.0", "data.[perfotel.json]" for dotted keys.</summary>
internal static class Yaml
{
    private static IEnumerable<string> Segments(string path)
    {
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '[')
            {
                var close = path.IndexOf(']', i);
                yield return path[(i + 1)..close];
                i = close + 2;
            }
            else
            {
                var dot = path.IndexOf('.', i);
                if (dot < 0)
                {
                    yield return path[i..];
                    yield break;
                }
                yield return path[i..dot];
                i = dot + 1;
            }
        }
    }

    public static YamlNode? Node(YamlNode root, string path)
    {
        YamlNode? current = root;
        foreach (var part in Segments(path))
        {
            if (current is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(part), out var next))
            {
                current = next;
            }
            else if (current is YamlSequenceNode seq && int.TryParse(part, out var index) && index < seq.Children.Count)
            {
                current = seq.Children[index];
            }
            else
            {
                return null;
            }
        }
        return current;
    }

    public static string? Str(YamlNode root, string path) => (Node(root, path) as YamlScalarNode)?.Value;

    /// <summary>A container's environment variables by name.</summary>
    public static Dictionary<string, YamlMappingNode> Env(YamlMappingNode container) =>
        Seq(container, "env").Cast<YamlMappingNode>().ToDictionary(e => Str(e, "name")!);

    public static YamlMappingNode Map(YamlNode root, string path) =>
        Node(root, path) as YamlMappingNode ?? throw new Xunit.Sdk.XunitException($"no mapping at {path}");

    public static YamlSequenceNode Seq(YamlNode root, string path) =>
        Node(root, path) as YamlSequenceNode ?? throw new Xunit.Sdk.XunitException($"no sequence at {path}");

    public static Dictionary<string, string> StringMap(YamlNode root, string path) =>
        Map(root, path).Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => (kv.Value as YamlScalarNode)?.Value ?? "");
}
