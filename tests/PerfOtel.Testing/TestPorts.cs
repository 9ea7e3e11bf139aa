using System.Net;
using System.Net.Sockets;

namespace PerfOtel.Testing;

/// <summary>Free loopback TCP ports for processes a test starts.</summary>
public static class TestPorts
{
    public static int GetFree()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
