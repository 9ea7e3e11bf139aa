namespace PerfOtel.Collector.Storage;

/// <summary>One schema step. Versions are applied in ascending order, each once, recorded in <c>schema_migrations</c>.</summary>
internal sealed record Migration(int Version, string Description, string Sql);
