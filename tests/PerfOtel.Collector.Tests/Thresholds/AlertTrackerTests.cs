using Microsoft.Extensions.Logging.Abstractions;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Sqlite;
using PerfOtel.Collector.Tests.Analytics;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Analytics.Records;

namespace PerfOtel.Collector.Tests.Thresholds;

/// <summary>
/// Alerts get a lifetime: the same breach keeps its id and start time across evaluations and restarts, and its
/// resolution is kept in the store's history.
/// </summary>
public sealed class AlertTrackerTests : IAsyncLifetime
{
    private readonly string directory = Directory.CreateTempSubdirectory("perfotel-alerts-").FullName;
    private readonly ManualTimeProvider clock = new(Noon.AddMinutes(30));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
        return Task.CompletedTask;
    }

    private async Task<SqliteExecutionStore> OpenStore()
    {
        var store = new SqliteExecutionStore(directory, fullDurability: false);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    private AlertTracker Tracker(SqliteExecutionStore store)
    {
        var windows = Analytics.Analytics.Windows(clock);
        var batch = new IngestBatch();
        // triage: 5 of 10 succeed at 12:10, a critical breach of the 80 % success rate in the 1h window.
        for (var i = 0; i < 10; i++)
        {
            batch.Invocations.Add(Invocation("triage", Noon.AddMinutes(10), i < 5 ? Outcomes.Success : Outcomes.Failure));
        }
        foreach (var invocation in batch.Invocations)
        {
            windows.RecordInvocation(invocation);
        }
        return new AlertTracker(windows, store, NullLogger<AlertTracker>.Instance);
    }

    [Fact]
    public async Task Same_breach_same_id_across_evaluations_and_a_restart_then_resolved_into_the_history()
    {
        string id;
        await using (var store = await OpenStore())
        {
            var tracker = Tracker(store);
            var first = Assert.Single(await tracker.EvaluateAsync("default", CancellationToken.None),
                a => a.Window == "1h" && a.Metric == "success_rate");
            Assert.Equal("critical", first.Level);
            Assert.Equal(Noon.AddMinutes(30), first.ActiveSince);
            Assert.Equal(AlertTracker.IdOf("default", "triage", "1h", "success_rate", "critical", Noon.AddMinutes(30)), first.Id);
            id = first.Id;

            clock.Advance(TimeSpan.FromMinutes(5));
            var again = Assert.Single(await tracker.EvaluateAsync("default", CancellationToken.None),
                a => a.Window == "1h" && a.Metric == "success_rate");
            Assert.Equal(id, again.Id);
            Assert.Equal(Noon.AddMinutes(30), again.ActiveSince);
        }

        // A restart: new windows rebuilt with the same data, a new tracker over the same store.
        await using (var store = await OpenStore())
        {
            var tracker = Tracker(store);
            clock.Advance(TimeSpan.FromMinutes(5));
            var resumed = Assert.Single(await tracker.EvaluateAsync("default", CancellationToken.None),
                a => a.Window == "1h" && a.Metric == "success_rate");
            Assert.Equal(id, resumed.Id);
            Assert.Equal(Noon.AddMinutes(30), resumed.ActiveSince);

            // 12:10 leaves the 1h window after 13:10: the alert resolves at the first evaluation after that.
            clock.Set(Noon.AddMinutes(75));
            Assert.DoesNotContain(await tracker.EvaluateAsync("default", CancellationToken.None), a => a.Window == "1h");
            var history = new List<AlertRecord>();
            await foreach (var alert in store.ReadAlertsAsync(new AlertQuery { Tenant = "default", ResolvedSince = Noon, Metric = "success_rate" }, CancellationToken.None))
            {
                history.Add(alert);
            }
            var resolved = Assert.Single(history, a => a.Window == "1h");
            Assert.Equal(id, resolved.Id);
            Assert.Equal(Noon.AddMinutes(30), resolved.ActiveSince);
            Assert.Equal(Noon.AddMinutes(75), resolved.ResolvedAt);
            Assert.Equal(0.5, resolved.Value);
        }
    }
}
