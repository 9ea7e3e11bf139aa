using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Postgres;
using PerfOtel.Collector.Storage.Sqlite;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers the configured <see cref="IExecutionStore"/> (section <c>Storage</c>) as a singleton, validates its
    /// settings at start-up, migrates the schema before the server accepts requests, and runs retention hourly.
    /// </summary>
    public static IServiceCollection AddPerfOtelStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<StorageOptions>()
            .Bind(configuration.GetSection(StorageOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IExecutionStore>(CreateStore);
        // Registered before the retention service and (by Program.cs order) before the receiver's hosted services:
        // hosted services start in registration order, so the schema exists before anything writes.
        services.AddHostedService<StoreInitializer>();
        services.AddHostedService<RetentionService>();
        return services;
    }

    private static IExecutionStore CreateStore(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        var loggers = services.GetRequiredService<ILoggerFactory>();
        return options.Provider.Trim().ToLowerInvariant() switch
        {
            StorageProviders.Postgres => new PostgresExecutionStore(options.ConnectionString!,
                loggers.CreateLogger<PostgresExecutionStore>(), options.PostgresWriteConnections,
                options.PostgresWritePartMinRecords, services.GetService<CollectorMetrics>()),
            _ => new SqliteExecutionStore(options.DataDirectory,
                !string.Equals(options.Durability.Trim(), SqliteDurability.Normal, StringComparison.OrdinalIgnoreCase),
                loggers.CreateLogger<SqliteExecutionStore>(), options.SqliteCacheMiB,
                services.GetService<CollectorMetrics>()),
        };
    }
}
