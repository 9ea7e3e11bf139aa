using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Storage;

/// <summary>Creates or migrates the schema during host start-up, before the server takes requests.</summary>
internal sealed class StoreInitializer(IExecutionStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
