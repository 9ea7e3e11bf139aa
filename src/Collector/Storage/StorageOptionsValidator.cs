using Microsoft.Extensions.Options;

namespace PerfOtel.Collector.Storage;

/// <summary>
/// Fails start-up with a message naming the setting, rather than letting a typo surface later as a write error on the
/// ingest path (where the receiver could only answer 503 forever).
/// </summary>
internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var failures = new List<string>();
        var provider = options.Provider?.Trim().ToLowerInvariant();
        switch (provider)
        {
            case StorageProviders.Sqlite:
                ValidateSqlite(options, failures);
                break;
            case StorageProviders.Postgres:
                if (string.IsNullOrWhiteSpace(options.ConnectionString))
                {
                    failures.Add("Storage:ConnectionString is required when Storage:Provider is 'postgres'.");
                }
                if (options.PostgresWriteConnections is < 1 or > 16)
                {
                    failures.Add($"Storage:PostgresWriteConnections must be between 1 and 16; got {options.PostgresWriteConnections}.");
                }
                if (options.PostgresWritePartMinRecords < 1)
                {
                    failures.Add($"Storage:PostgresWritePartMinRecords must be at least 1; got {options.PostgresWritePartMinRecords}.");
                }
                break;
            default:
                failures.Add($"Storage:Provider '{options.Provider}' is unknown; use 'sqlite' or 'postgres'.");
                break;
        }

        if (options.RetentionDays < 0)
        {
            failures.Add($"Storage:RetentionDays must be 0 (keep everything) or more; got {options.RetentionDays}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateSqlite(StorageOptions options, List<string> failures)
    {
        if (options.SqliteCacheMiB is < 1 or > 4096)
        {
            failures.Add($"Storage:SqliteCacheMiB must be between 1 and 4096; got {options.SqliteCacheMiB}.");
        }

        var durability = options.Durability?.Trim().ToLowerInvariant();
        if (durability is not (SqliteDurability.Full or SqliteDurability.Normal))
        {
            failures.Add($"Storage:Durability '{options.Durability}' is unknown; use 'full' or 'normal'.");
        }

        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add("Storage:DataDirectory must not be empty.");
            return;
        }

        // Probing with a real file is the only reliable check: permission bits, read-only mounts and ACLs all differ.
        try
        {
            var directory = Path.GetFullPath(options.DataDirectory);
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".perfotel-write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "probe");
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException
                                       or ArgumentException)
        {
            failures.Add($"Storage:DataDirectory '{options.DataDirectory}' is not writable: {ex.Message}");
        }
    }
}
