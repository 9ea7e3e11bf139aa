using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PerfOtel.Collector.Tests.Ingest.TestDoubles;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Otlp.Support;

/// <summary>The collector's real Program with an in-memory store and optional configuration overrides.</summary>
public sealed class CollectorFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    public CollectorFactory(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, bool kestrel = false)
    {
        _settings = settings ?? [];
        // The real storage registration validates its directory even though the tests swap the store out.
        _settings.TryAdd("Storage:DataDirectory", _dataDirectory);
        _services = services;
        if (kestrel)
        {
            UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
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
            var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
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
