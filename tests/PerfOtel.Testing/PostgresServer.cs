using System.Diagnostics;

namespace PerfOtel.Testing;

/// <summary>
/// A real PostgreSQL for tests: the server named by PERFOTEL_TEST_POSTGRES (a connection string) when set, otherwise a
/// throwaway cluster under /tmp started with initdb/pg_ctl (as user postgres when we are root, since PostgreSQL refuses
/// to run as root) on a free loopback port with trust authentication, removed on dispose.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string ConnectionStringVariable = "PERFOTEL_TEST_POSTGRES";

    private readonly string? clusterDirectory;

    private PostgresServer(string connectionString, string? clusterDirectory)
    {
        ConnectionString = connectionString;
        this.clusterDirectory = clusterDirectory;
    }

    /// <summary>Npgsql connection string of a superuser on the <c>postgres</c> database.</summary>
    public string ConnectionString { get; }

    public static async Task<PostgresServer> StartAsync()
    {
        var external = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            return new PostgresServer(external, null);
        }

        var initdb = FindTool("initdb");
        var pgCtl = FindTool("pg_ctl");
        var directory = Path.Combine(Path.GetTempPath(), "perfotel-pg-" + Guid.NewGuid().ToString("N")[..12]);
        var data = Path.Combine(directory, "data");
        var sockets = Path.Combine(directory, "sock");
        Directory.CreateDirectory(sockets);
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            await RunAsync("chown", ["-R", "postgres:", directory], asPostgres: false);
        }

        var port = TestPorts.GetFree();
        try
        {
            await RunAsync(initdb, ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"], asRoot);
            // fsync off: a test cluster needs no durability, and fsyncs on a shared 2-core machine slow every test.
            await RunAsync(pgCtl, ["-D", data, "-l", Path.Combine(directory, "server.log"), "-w", "-t", "60", "-o",
                $"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start"], asRoot);
        }
        catch
        {
            TryDelete(directory);
            throw;
        }

        return new PostgresServer(
            $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true;Timeout=30", directory);
    }

    public async ValueTask DisposeAsync()
    {
        if (clusterDirectory is null)
        {
            return;
        }

        try
        {
            await RunAsync(FindTool("pg_ctl"), ["-D", Path.Combine(clusterDirectory, "data"), "-m", "immediate", "-w", "stop"],
                Environment.UserName == "root");
        }
        finally
        {
            TryDelete(clusterDirectory);
        }
    }

    private static string FindTool(string name)
    {
        var found = ExternalProcess.FindOnPath(name);
        if (found is not null)
        {
            return found;
        }

        var versioned = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending()
                .Select(dir => Path.Combine(dir, "bin", name)).FirstOrDefault(File.Exists)
            : null;
        return versioned ?? throw new InvalidOperationException(
            $"PostgreSQL's {name} was not found on PATH or under /usr/lib/postgresql/*/bin: install PostgreSQL 15 " +
            $"(bash scripts/install-test-deps.sh) or set {ConnectionStringVariable} to a server's connection string.");
    }

    private static async Task RunAsync(string tool, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var psi = new ProcessStartInfo(asPostgres ? "runuser" : tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/tmp",
        };
        if (asPostgres)
        {
            foreach (var prefix in (string[])["-u", "postgres", "--", tool])
            {
                psi.ArgumentList.Add(prefix);
            }
        }

        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {tool}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', arguments)} did not finish within 120 s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{tool} {string.Join(' ', arguments)} failed with {process.ExitCode}:\n{await stdout}\n{await stderr}");
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
