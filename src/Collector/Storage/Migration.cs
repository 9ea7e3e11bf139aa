using System.Data.Common;

namespace PerfOtel.Collector.Storage;

/// <summary>One schema step. Versions are applied in ascending order, each once, recorded in <c>schema_migrations</c>.</summary>
/// <remarks>
/// <see cref="Then"/>, when set, runs after <see cref="Sql"/> in the same transaction: for a step that converts rows
/// with the collector's own code (the span link packs of migration 9), which SQL alone cannot write.
/// </remarks>
internal sealed record Migration(int Version, string Description, string Sql)
{
    public Func<DbConnection, DbTransaction, CancellationToken, Task>? Then { get; init; }
}
