using System.Net;
using System.Net.Sockets;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Hosting;

/// <summary>
/// The ports tests start collectors, Prometheus and PostgreSQL on: never from the kernel's ephemeral range (where any
/// outgoing connection may take the port between the pick and the bind, which once failed a CI run with "address
/// already in use"), never the same port twice in one process, and free when handed out.
/// </summary>
public sealed class TestPortsTests
{
    [Fact]
    public void PortsAreFreeDistinctAndBelowTheEphemeralRange()
    {
        var ephemeralLowest = TestPorts.EphemeralLowest();
        Assert.True(ephemeralLowest - TestPorts.Lowest >= 1_000, $"this machine's ephemeral range starts at {ephemeralLowest}");
        var ports = Enumerable.Range(0, 200).Select(_ => TestPorts.GetFree()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, port => Assert.InRange(port, TestPorts.Lowest, ephemeralLowest - 1));
        using var listener = new TcpListener(IPAddress.Loopback, ports[^1]);
        listener.Start();
    }

    [Fact]
    public void APortInUseIsNotHandedOut()
    {
        // Hold the next ports the walk would reach; whatever it hands out next is none of them.
        var held = new List<TcpListener>();
        try
        {
            var probe = TestPorts.GetFree();
            for (var port = probe + 1; port < probe + 20 && port < TestPorts.EphemeralLowest(); port++)
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                try
                {
                    listener.Start();
                    held.Add(listener);
                }
                catch (SocketException)
                {
                    listener.Dispose();
                }
            }
            var next = TestPorts.GetFree();
            Assert.DoesNotContain(next, held.Select(l => ((IPEndPoint)l.LocalEndpoint).Port));
            using var bound = new TcpListener(IPAddress.Loopback, next);
            bound.Start();
        }
        finally
        {
            foreach (var listener in held)
            {
                listener.Dispose();
            }
        }
    }
}
