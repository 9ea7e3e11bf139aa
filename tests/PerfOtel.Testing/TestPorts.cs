using System.Net;
using System.Net.Sockets;

namespace PerfOtel.Testing;

/// <summary>
/// Free loopback TCP ports for processes a test starts.
/// </summary>
/// <remarks>
/// A port is picked some time before the process binds it (and a restarted collector binds the same port again).
/// A port from the kernel's ephemeral range (ip_local_port_range, 32768-60999 by default), which is what binding port
/// 0 returns, can meanwhile become the local end of any outgoing connection on the machine (a test's HTTP client, a
/// Prometheus scrape, a collector's PostgreSQL connection), and the process then fails with "address already in use".
/// So ports are picked below that range, where the kernel never hands out a port by itself, walking the range from a
/// starting point that differs per process so that two test processes rarely walk the same ports; each candidate is
/// checked free by binding it, and no port is handed out twice by one process.
/// </remarks>
public static class TestPorts
{
    /// <summary>The lowest port picked: above the well-known and commonly configured service ports.</summary>
    public const int Lowest = 20_000;

    private static readonly object Gate = new();
    private static readonly HashSet<int> Given = [];
    private static int next = -1;

    public static int GetFree()
    {
        var highest = EphemeralLowest() - 1;
        if (highest - Lowest < 1_000)
        {
            // An unusual kernel setting leaves no room below the ephemeral range: fall back to the kernel's choice.
            return KernelChosen();
        }
        var size = highest - Lowest + 1;
        lock (Gate)
        {
            if (next < 0)
            {
                next = (int)((uint)(Environment.ProcessId * 7_919 + Environment.TickCount) % (uint)size);
            }
            for (var attempt = 0; attempt < size; attempt++)
            {
                var port = Lowest + next;
                next = (next + 1) % size;
                if (!Given.Contains(port) && IsFree(port))
                {
                    Given.Add(port);
                    return port;
                }
            }
        }
        return KernelChosen();
    }

    /// <summary>The first port of the kernel's ephemeral range (32768 when it cannot be read).</summary>
    public static int EphemeralLowest()
    {
        try
        {
            var text = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range");
            var first = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0];
            return int.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32_768;
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int KernelChosen()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
