using System.Globalization;

namespace PerfOtel.Testing;

/// <summary>
/// A real Alertmanager on 127.0.0.1 (free port, clustering off, throwaway storage) running the given configuration
/// file; killed on dispose.
/// </summary>
public sealed class AlertmanagerServer : IAsyncDisposable
{
    private readonly ExternalProcess process;
    private readonly string directory;
    private readonly HttpClient client;

    private AlertmanagerServer(ExternalProcess process, string directory, int port)
    {
        this.process = process;
        this.directory = directory;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public int Port { get; }

    public Uri BaseAddress { get; }

    /// <summary>host:port, as Prometheus' alerting configuration names an Alertmanager.</summary>
    public string Target => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public string Log => process.Output;

    /// <summary>Starts Alertmanager on a configuration file and waits until it is ready (60 s at most).</summary>
    public static async Task<AlertmanagerServer> StartAsync(string configFile)
    {
        // Debian packages the binary as prometheus-alertmanager, the upstream tarball as alertmanager.
        var binary = ExternalProcess.FindOnPath("prometheus-alertmanager", "alertmanager")
            ?? throw new InvalidOperationException("alertmanager not found on PATH: run scripts/install-test-deps.sh");
        var directory = Directory.CreateTempSubdirectory("perfotel-alertmanager-").FullName;
        var port = TestPorts.GetFree();
        var process = ExternalProcess.Start(binary,
        [
            "--config.file=" + configFile,
            "--storage.path=" + Path.Combine(directory, "data"),
            "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture),
            // Empty: no gossip listener, so a test neither opens a cluster port nor waits for peers to settle.
            "--cluster.listen-address=",
            "--log.level=warn",
        ]);
        var server = new AlertmanagerServer(process, directory, port);

        try
        {
            await process.WaitUntilReadyAsync(new Uri(server.BaseAddress, "-/ready"), "alertmanager", TimeSpan.FromSeconds(60));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>GET an Alertmanager API path (api/v2/alerts) and return the body.</summary>
    public Task<string> GetStringAsync(string relative) => client.GetStringAsync(new Uri(relative, UriKind.Relative));

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        await process.DisposeAsync();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
