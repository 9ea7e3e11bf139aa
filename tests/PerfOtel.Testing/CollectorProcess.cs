namespace PerfOtel.Testing;

/// <summary>
/// The collector as users run it: its own process (the built PerfOtel.Collector.dll), on a free loopback port,
/// with a data directory the test owns. Restartable on the same directory to check what survived.
/// </summary>
public sealed class CollectorProcess : IAsyncDisposable
{
    private readonly IReadOnlyDictionary<string, string> settings;
    private readonly IReadOnlyDictionary<string, string> environment;
    private ExternalProcess? process;

    private CollectorProcess(string dataDirectory, int port, IReadOnlyDictionary<string, string> settings,
        IReadOnlyDictionary<string, string> environment)
    {
        this.environment = environment;
        DataDirectory = dataDirectory;
        Port = port;
        // Never OTLP's default 4317: several collectors (and other test runs) share the machine.
        GrpcPort = TestPorts.GetFree();
        this.settings = settings;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
    }

    public string DataDirectory { get; }

    public int Port { get; }

    public Uri BaseAddress { get; }

    /// <summary>The OTLP/gRPC listener's port (a free one unless the settings name Otlp:GrpcEndpoint).</summary>
    public int GrpcPort { get; }

    /// <summary>The OTLP/gRPC endpoint, e.g. http://127.0.0.1:41235 (what a gRPC exporter's Endpoint is set to).</summary>
    public Uri GrpcAddress => new(settings.TryGetValue("Otlp:GrpcEndpoint", out var configured) ? configured : $"http://127.0.0.1:{GrpcPort}");

    public ExternalProcess Process => process ?? throw new InvalidOperationException("not started");

    public static string AssemblyPath =>
        RepoPaths.Combine("src", "Collector", "bin", RepoPaths.Configuration, "net10.0", "PerfOtel.Collector.dll");

    /// <summary>Starts a collector; settings are configuration keys (Storage:Provider) passed on the command line.</summary>
    public static async Task<CollectorProcess> StartAsync(string dataDirectory, IDictionary<string, string>? settings = null,
        int? port = null, IDictionary<string, string>? environment = null)
    {
        var collector = new CollectorProcess(dataDirectory, port ?? TestPorts.GetFree(),
            new Dictionary<string, string>(settings ?? new Dictionary<string, string>()),
            new Dictionary<string, string>(environment ?? new Dictionary<string, string>()));
        await collector.RestartAsync();
        return collector;
    }

    /// <summary>(Re)starts the process on the same port and data directory and waits for /healthz.</summary>
    public async Task RestartAsync()
    {
        if (process is { HasExited: false })
        {
            throw new InvalidOperationException("collector still running");
        }
        if (process is not null)
        {
            await process.DisposeAsync();
        }
        if (!File.Exists(AssemblyPath))
        {
            throw new InvalidOperationException($"{AssemblyPath} not built: build the solution first.");
        }
        var args = new List<string> { AssemblyPath, $"--urls=http://127.0.0.1:{Port}", $"--Storage:DataDirectory={DataDirectory}" };
        if (!settings.ContainsKey("Otlp:GrpcEndpoint"))
        {
            args.Add($"--Otlp:GrpcEndpoint=http://127.0.0.1:{GrpcPort}");
        }
        args.AddRange(settings.Select(kv => $"--{kv.Key}={kv.Value}"));
        var env = new Dictionary<string, string>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        };
        foreach (var (k, v) in environment)
        {
            env[k] = v;
        }
        process = ExternalProcess.Start("dotnet", args, env, Path.GetDirectoryName(AssemblyPath));
        await Process.WaitUntilReadyAsync(new Uri(BaseAddress, "healthz"), "collector", TimeSpan.FromSeconds(60));
    }

    public async ValueTask DisposeAsync()
    {
        if (process is not null)
        {
            await process.DisposeAsync();
        }
    }
}
