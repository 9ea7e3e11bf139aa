namespace PerfOtel.Collector.Security;

/// <summary>What a key may do. Admin may do everything, for every tenant.</summary>
public enum ApiRole
{
    /// <summary>Send OTLP data and post feedback, for its own tenant.</summary>
    Ingest,

    /// <summary>Read the REST API and the export, for its own tenant.</summary>
    Read,

    /// <summary>Everything, for any tenant (a trusted gateway or an operator); also scrapes /metrics.</summary>
    Admin,
}

internal static class ApiRoles
{
    public static readonly IReadOnlyList<string> Names = ["ingest", "read", "admin"];

    public static bool TryParse(string? text, out ApiRole role)
    {
        role = default;
        switch (text?.Trim().ToLowerInvariant())
        {
            case "ingest":
                role = ApiRole.Ingest;
                return true;
            case "read":
                role = ApiRole.Read;
                return true;
            case "admin":
                role = ApiRole.Admin;
                return true;
            default:
                return false;
        }
    }

    public static string Name(this ApiRole role) => Names[(int)role];

    public static bool Grants(this ApiRole held, ApiRole required) => held == ApiRole.Admin || held == required;
}
