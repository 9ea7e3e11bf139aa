using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage;
using PerfOtel.Collector.Storage.Sqlite;

namespace PerfOtel.Collector.Tests.Storage;

public sealed class StorageOptionsTests
{
    [Theory]
    [InlineData("Storage:Provider", "mysql", "Storage:Provider 'mysql' is unknown")]
    [InlineData("Storage:Durability", "sometimes", "Storage:Durability 'sometimes' is unknown")]
    [InlineData("Storage:RetentionDays", "-1", "Storage:RetentionDays must be 0")]
    [InlineData("Storage:SqliteCacheMiB", "0", "Storage:SqliteCacheMiB must be between 1 and 4096")]
    public async Task AnInvalidSettingStopsStartUpNamingIt(string key, string value, string expected)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(new()
        {
            [key] = value,
            ["Storage:DataDirectory"] = Path.Combine(Path.GetTempPath(), "perfotel-options-" + Guid.NewGuid().ToString("N")),
        }));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Storage:PostgresWriteConnections", "0", "Storage:PostgresWriteConnections must be between 1 and 16; got 0")]
    [InlineData("Storage:PostgresWriteConnections", "17", "Storage:PostgresWriteConnections must be between 1 and 16; got 17")]
    [InlineData("Storage:PostgresWritePartMinRecords", "0", "Storage:PostgresWritePartMinRecords must be at least 1; got 0")]
    public async Task AnInvalidPostgresWriteSettingStopsStartUpNamingIt(string key, string value, string expected)
    {
        // Validation fails before any connection is opened: the address needs no server.
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(new()
        {
            ["Storage:Provider"] = "postgres",
            ["Storage:ConnectionString"] = "Host=127.0.0.1;Port=1;Username=postgres",
            [key] = value,
        }));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostgresWithoutAConnectionStringStopsStartUp()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(new() { ["Storage:Provider"] = "postgres" }));

        Assert.Contains("Storage:ConnectionString is required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnwritableDataDirectoryStopsStartUp()
    {
        // A directory below a regular file can be created by nobody, root included.
        var file = Path.GetTempFileName();
        try
        {
            var error = await Assert.ThrowsAsync<OptionsValidationException>(
                () => StartAsync(new() { ["Storage:DataDirectory"] = Path.Combine(file, "data") }));

            Assert.Contains("Storage:DataDirectory", error.Message, StringComparison.Ordinal);
            Assert.Contains("is not writable", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ValidSettingsStartWithTheChosenStoreMigrated()
    {
        var directory = Path.Combine(Path.GetTempPath(), "perfotel-options-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var host = await StartAsync(new()
                         {
                             ["Storage:DataDirectory"] = directory,
                             ["Storage:Durability"] = "normal",
                             ["Storage:RetentionDays"] = "0",
                         }))
            {
                var store = host.Services.GetRequiredService<IExecutionStore>();
                Assert.IsType<SqliteExecutionStore>(store);
                // Writable right away: the initializer ran during start-up.
                await store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None);
                await host.StopAsync();
            }

            Assert.True(File.Exists(Path.Combine(directory, SqliteExecutionStore.FileName)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<WebApplication> StartAsync(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddPerfOtelStorage(builder.Configuration);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return app;
    }
}
