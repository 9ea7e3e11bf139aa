namespace PerfOtel.Collector.Security;

/// <summary>The <c>Auth</c> section: API-key authentication of OTLP, the REST API and (without Metrics:Port) /metrics.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>Off by default for the embedded quick start on loopback; a warning is logged when that is exposed.</summary>
    public bool Enabled { get; set; }

    /// <summary>Keys given in configuration (appsettings, PERFOTEL__Auth__Keys__0__Sha256, ...).</summary>
    public IList<ApiKeyOptions> Keys { get; } = [];

    /// <summary>A JSON file holding an array of keys in the same shape, e.g. a mounted Kubernetes Secret.</summary>
    public string? KeysFile { get; set; }
}

/// <summary>One API key as configured: never the key itself, only its SHA-256.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>Who holds the key, for logs and for finding the key to revoke.</summary>
    public string? Name { get; set; }

    /// <summary>Lower-case hex SHA-256 of the key's UTF-8 bytes (<c>hash-api-key</c> prints it).</summary>
    public string? Sha256 { get; set; }

    /// <summary>The tenant the key acts for; required unless the role is admin.</summary>
    public string? Tenant { get; set; }

    /// <summary><c>ingest</c>, <c>read</c> or <c>admin</c>.</summary>
    public string? Role { get; set; }
}
