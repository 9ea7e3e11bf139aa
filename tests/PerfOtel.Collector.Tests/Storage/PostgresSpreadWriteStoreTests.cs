using Npgsql;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Postgres;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// The whole store contract (and the PostgreSQL store's own tests) with every write of two records or more spread over
/// three connections (<c>Storage:PostgresWriteConnections</c> 3, <c>Storage:PostgresWritePartMinRecords</c> 1), plus what
/// a spread write promises itself: each trace wholly in one transaction, every transaction's commit position reported.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresSpreadWriteStoreTests(PostgresClusterFixture cluster) : PostgresExecutionStoreTests(cluster)
{
    protected override (int Connections, int PartMinRecords) Writes => (3, 1);

    [Fact]
    public void SplitByStripe_PutsEveryRecordLinkUpdateAndMarkOfATraceInOnePart_AndThePruneInTheFirst()
    {
        var batch = new IngestBatch { PruneSpanLinksBefore = TestRecords.Start };
        foreach (var trace in Enumerable.Range(0, 60).Select(_ => TestRecords.TraceId()))
        {
            var invocation = TestRecords.Invocation(trace);
            batch.Invocations.Add(invocation);
            batch.ProviderCalls.Add(TestRecords.ProviderCall(trace, invocation.SpanId, invocation.SpanId, new TokenCounts(1, 2, 0, 0, 0), 0.1));
            batch.ToolCalls.Add(TestRecords.ToolCall(trace));
            batch.Evaluations.Add(TestRecords.Evaluation(trace, invocation.SpanId));
            batch.SpanLinks.Add(new SpanLink { Tenant = "default", TraceId = trace, SpanId = invocation.SpanId, SeenAt = TestRecords.Start });
            batch.Attributions.Add(new AttributionUpdate("default", trace, TestRecords.SpanId(), invocation.SpanId, "planner"));
            batch.ExpiredSpans.Add(new ExpiredSpan("default", trace, TestRecords.SpanId(), TestRecords.Start));
        }

        var parts = PostgresExecutionStore.SplitByStripe(batch, connections: 3, minRecordsPerPart: 1);

        Assert.Equal(3, parts.Count);
        Assert.Equal(batch.Count, parts.Sum(p => p.Count));
        Assert.Equal(batch.SpanLinks.Count, parts.Sum(p => p.SpanLinks.Count));
        Assert.Equal(batch.Attributions.Count, parts.Sum(p => p.Attributions.Count));
        Assert.Equal(batch.ExpiredSpans.Count, parts.Sum(p => p.ExpiredSpans.Count));
        Assert.Equal(TestRecords.Start, parts[0].PruneSpanLinksBefore);
        Assert.All(parts.Skip(1), p => Assert.Null(p.PruneSpanLinksBefore));
        for (var index = 0; index < parts.Count; index++)
        {
            var part = parts[index];
            var traces = part.Invocations.Select(i => i.TraceId).ToHashSet();
            Assert.All(part.ProviderCalls.Select(c => c.TraceId).Concat(part.ToolCalls.Select(t => t.TraceId))
                    .Concat(part.Evaluations.Select(e => e.TraceId)).Concat(part.SpanLinks.Select(l => l.TraceId))
                    .Concat(part.Attributions.Select(a => a.TraceId)).Concat(part.ExpiredSpans.Select(e => e.TraceId)),
                trace => Assert.Contains(trace, traces));
            Assert.All(parts.Where((_, other) => other != index), other => Assert.DoesNotContain(other.Invocations, i => traces.Contains(i.TraceId)));
        }

        // Fewer records than two parts' minimum: one part, the batch itself.
        Assert.Same(batch, Assert.Single(PostgresExecutionStore.SplitByStripe(batch, connections: 3, minRecordsPerPart: 1_000)));
    }

    [Fact]
    public async Task ASpreadWrite_StoresEachTraceInOneOfItsTransactions_ReportsEveryPosition_AndSumsEveryCall()
    {
        var batch = new IngestBatch();
        foreach (var trace in Enumerable.Range(0, 60).Select(_ => TestRecords.TraceId()))
        {
            var invocation = TestRecords.Invocation(trace);
            batch.Invocations.Add(invocation);
            for (var call = 0; call < 2; call++)
            {
                batch.ProviderCalls.Add(TestRecords.ProviderCall(trace, invocation.SpanId, invocation.SpanId, new TokenCounts(100, 50, 0, 0, 0), 0.1));
            }
            batch.ToolCalls.Add(TestRecords.ToolCall(trace));
        }

        var stored = await Store.WriteAsync(batch, CancellationToken.None);

        Assert.Equal(3, stored.CommitPositions.Count);
        Assert.Equal(3, stored.CommitPositions.Distinct().Count());
        Assert.Equal(batch.Invocations.Count, stored.Invocations.Count);
        Assert.Equal(batch.ProviderCalls.Count, stored.ProviderCalls.Count);
        Assert.Equal(batch.ToolCalls.Count, stored.ToolCalls.Count);

        // Every row carries one of the reported positions, one position per trace; every invocation sums its two calls.
        await using var connection = new NpgsqlConnection(SchemaConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT trace_id, commit_position, 0 AS calls, 0 AS tokens FROM provider_calls
            UNION ALL SELECT trace_id, commit_position, 0, 0 FROM tool_calls
            UNION ALL SELECT trace_id, commit_position, call_count, call_tokens FROM invocations
            """, connection);
        var positionOf = new Dictionary<string, HashSet<long>>();
        var invocations = 0;
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var trace = reader.GetString(0);
                (positionOf.TryGetValue(trace, out var set) ? set : positionOf[trace] = []).Add(reader.GetInt64(1));
                if (reader.GetInt64(2) > 0 || reader.GetInt64(3) > 0)
                {
                    invocations++;
                    Assert.Equal((2L, 300L), (reader.GetInt64(2), reader.GetInt64(3)));
                }
            }
        }
        Assert.Equal(batch.Invocations.Count, invocations);
        Assert.All(positionOf.Values, positions => Assert.Contains(Assert.Single(positions), stored.CommitPositions));

        // A resend stores nothing new and reports positions all the same.
        var resent = await Store.WriteAsync(batch, CancellationToken.None);
        Assert.Equal(0, resent.Count);
        Assert.NotEmpty(resent.CommitPositions);
    }
}
