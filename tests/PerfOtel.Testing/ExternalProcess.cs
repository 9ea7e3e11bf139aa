using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace PerfOtel.Testing;

/// <summary>
/// A child process a test starts (the collector, Prometheus, Alertmanager, the agent fleet) with its output captured
/// for failure messages; killed with its tree on dispose so no test leaves processes behind.
/// </summary>
public sealed partial class ExternalProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();
    private long lineCount;

    private ExternalProcess(Process process) => this.process = process;

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>Lines the process wrote so far (stdout and stderr), including those no longer kept in <see cref="Output"/>.</summary>
    public long LineCount => Interlocked.Read(ref lineCount);

    /// <summary>Everything the process wrote so far (stdout and stderr interleaved), for assertion messages.</summary>
    public string Output => string.Join('\n', output);

    public static ExternalProcess Start(string fileName, IEnumerable<string> arguments,
        IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                psi.Environment[k] = v;
            }
        }
        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var wrapper = new ExternalProcess(p);
        p.OutputDataReceived += (_, e) => wrapper.Append(e.Data);
        p.ErrorDataReceived += (_, e) => wrapper.Append(e.Data);
        if (!p.Start())
        {
            throw new InvalidOperationException($"could not start {fileName}");
        }
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return wrapper;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        Interlocked.Increment(ref lineCount);
        output.Enqueue(line);
        // Bounded: a chatty process must not grow the test's memory without limit.
        while (output.Count > 5000 && output.TryDequeue(out _))
        {
        }
    }

    /// <summary>SIGKILL: the process gets no chance to flush or commit anything.</summary>
    public void KillHard()
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit(TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGTERM, as Kubernetes and systemd stop a service.</summary>
    public void Terminate()
    {
        if (kill(process.Id, 15) != 0)
        {
            throw new InvalidOperationException($"kill -TERM {process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await WaitForExitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        process.Dispose();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    /// <summary>
    /// Polls <paramref name="readyUri"/> until it answers 2xx. Throws with the process's output when the process exits
    /// first (after letting its output drain, so the message says why) or when <paramref name="timeout"/> passes.
    /// </summary>
    public async Task WaitUntilReadyAsync(Uri readyUri, string name, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (HasExited)
            {
                await WaitForExitAsync(TimeSpan.FromSeconds(10));
                throw new InvalidOperationException($"{name} exited with {ExitCode}:\n{Output}");
            }
            try
            {
                using var response = await http.GetAsync(readyUri);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{name} was not ready within {timeout}:\n{Output}");
    }

    /// <summary>Finds an executable on PATH (or returns null).</summary>
    public static string? FindOnPath(params string[] names)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in names)
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        return null;
    }
}
