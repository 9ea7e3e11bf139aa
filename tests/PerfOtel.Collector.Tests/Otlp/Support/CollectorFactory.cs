using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PerfOtel.Collector.Tests.Ingest.TestDoubles;
using PerfOtel.Collector.Records;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Otlp.Support;

/// <summary>The collector's real Program with an in-memory store and optional configuration overrides.</summary>
public sealed class CollectorFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    /// <param name="settings">Configuration overrides.</param>
    /// <param name="services">Service overrides, after the in-memory store is put in.</param>
    /// <param name="kestrel">Listen on a loopback port (for real exporters) instead of the in-process test server.</param>
    /// <param name="grpc">With <paramref name="kestrel"/>: also serve OTLP/gRPC on a free loopback port (<see cref="GrpcAddress"/>).</param>
    public CollectorFactory(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, bool kestrel = false,
        bool grpc = false)
    {
        _settings = settings ?? [];
        // The real storage registration validates its directory even though the tests swap the store out.
        _settings.TryAdd("Storage:DataDirectory", _dataDirectory);
        _services = services;
        if (grpc && !kestrel)
        {
            throw new ArgumentException("OTLP/gRPC needs a Kestrel listener", nameof(grpc));
        }

        if (kestrel)
        {
            // Explicit listeners replace the server's URLs, so the gRPC one is listed here too, with the same setting the
            // collector reads (its endpoint defaults then give that port HTTP/2 only, as in production).
            _grpcPort = grpc ? TestPorts.GetFree() : null;
            if (_grpcPort is { } grpcPort)
            {
                _settings["Otlp:GrpcEndpoint"] = $"http://127.0.0.1:{grpcPort}";
            }

            UseKestrel(options =>
            {
                options.Listen(IPAddress.Loopback, 0);
                if (_grpcPort is { } port)
                {
                    options.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2);
                }
            });
        }
    }

    private readonly int? _grpcPort;

    /// <summary>The OTLP/gRPC listener, e.g. http://127.0.0.1:41235 (only with <c>grpc: true</c>).</summary>
    public Uri GrpcAddress
    {
        get
        {
            StartServer();
            return new Uri($"http://127.0.0.1:{_grpcPort ?? throw new InvalidOperationException("created without grpc: true")}");
        }
    }

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("perfotel-otlp-tests-").FullName;

    public InMemoryExecutionStore Store { get; } = new();

    /// <summary>Base address of the Kestrel listener (loopback tests), e.g. http://127.0.0.1:41234/.</summary>
    public Uri ListenAddress
    {
        get
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            var address = addresses.Single(a => _grpcPort is not { } grpcPort || new Uri(a).Port != grpcPort);
            return new Uri(address + "/");
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<IExecutionStore>();
            services.AddSingleton<IExecutionStore>(Store);
            _services?.Invoke(services);
        });
    }
}
