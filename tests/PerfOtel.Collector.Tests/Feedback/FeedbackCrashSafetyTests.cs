using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using PerfOtel.Collector.Tests.Storage;
using PerfOtel.Testing;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Receiving.Feedback;
using PerfOtel.Collector.Storage.Sqlite;

namespace PerfOtel.Collector.Tests.Feedback;

/// <summary>
/// The collector as a process on the embedded store, killed with SIGKILL while clients post: everything it answered
/// 202 for is in the file afterwards, and it starts again on that file.
/// </summary>
[Collection(HeavyStoreCollection.Name)]
public sealed class FeedbackCrashSafetyTests
{
    [Fact]
    public async Task EverythingAcknowledgedBeforeSigkillIsStoredAfterRestart()
    {
        var directory = Path.Combine(Path.GetTempPath(), "perfotel-crash-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var collector = await CollectorProcess.StartAsync(directory);
            using var http = new HttpClient { BaseAddress = collector.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            var acknowledged = new ConcurrentBag<string>();
            const int clients = 8, killAfter = 400, maxPosts = 2_000;
            var posted = 0;
            var killed = new TaskCompletionSource();

            async Task ClientAsync()
            {
                while (Interlocked.Increment(ref posted) <= maxPosts && !killed.Task.IsCompleted)
                {
                    var id = Guid.NewGuid().ToString("N");
                    try
                    {
                        using var response = await http.PostAsync(FeedbackEndpoint.Route, new StringContent(
                            $$"""{"taskId": "task-{{id}}", "success": true, "feedbackId": "{{id}}"}""",
                            Encoding.UTF8, "application/json"));
                        if (response.StatusCode == HttpStatusCode.Accepted)
                        {
                            acknowledged.Add(id);
                            if (acknowledged.Count >= killAfter && killed.TrySetResult())
                            {
                                // Other clients' requests are in flight right now: some committed, some not.
                                collector.Process.KillHard();
                            }
                        }
                    }
                    catch (HttpRequestException)
                    {
                        // The connection died with the process; this post was never acknowledged.
                    }
                    catch (TaskCanceledException)
                    {
                    }
                }
            }

            await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(ClientAsync)));
            Assert.True(killed.Task.IsCompleted, $"only {acknowledged.Count} posts were acknowledged before the posts ran out");
            Assert.True(await collector.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));

            var stored = ReadFeedbackIds(Path.Combine(directory, SqliteExecutionStore.FileName));
            var lost = acknowledged.Where(id => !stored.Contains(id)).ToList();
            Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged posts were lost");

            await collector.RestartAsync();
            using var again = await http.PostAsync(FeedbackEndpoint.Route, new StringContent(
                """{"taskId": "after-restart", "success": true}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static HashSet<string> ReadFeedbackIds(string databasePath)
    {
        // Opening the file replays the WAL the killed process left behind, as the restarted collector would.
        using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT feedback_id FROM feedback";
        using var reader = command.ExecuteReader();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }
}
