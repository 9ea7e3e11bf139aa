using System.Net.Http.Headers;
using PerfOtel.Collector.Security;

namespace PerfOtel.Collector.Tests.Security;

/// <summary>The keys the security tests configure: tenants alpha and bravo with ingest and read keys, and one admin.</summary>
public static class TestKeys
{
    public const string TenantA = "tenant-alpha";
    public const string TenantB = "tenant-bravo";

    public const string IngestA = "perfotel_test-ingest-alpha-6f1c";
    public const string ReadA = "perfotel_test-read-alpha-0b7e";
    public const string IngestB = "perfotel_test-ingest-bravo-93d2";
    public const string ReadB = "perfotel_test-read-bravo-4a58";
    public const string Admin = "perfotel_test-admin-c21f";
    public const string Unknown = "perfotel_test-not-configured-7777";

    private static readonly (string Name, string Key, string? Tenant, string Role)[] All =
    [
        ("alpha-ingest", IngestA, TenantA, "ingest"),
        ("alpha-read", ReadA, TenantA, "read"),
        ("bravo-ingest", IngestB, TenantB, "ingest"),
        ("bravo-read", ReadB, TenantB, "read"),
        ("operator", Admin, null, "admin"),
    ];

    /// <summary>Configuration enabling authentication with every test key.</summary>
    public static Dictionary<string, string?> Settings()
    {
        var settings = new Dictionary<string, string?> { ["Auth:Enabled"] = "true" };
        for (var i = 0; i < All.Length; i++)
        {
            var (name, key, tenant, role) = All[i];
            settings[$"Auth:Keys:{i}:Name"] = name;
            settings[$"Auth:Keys:{i}:Sha256"] = ApiKeyHash.HashHex(key);
            settings[$"Auth:Keys:{i}:Role"] = role;
            if (tenant is not null)
            {
                settings[$"Auth:Keys:{i}:Tenant"] = tenant;
            }
        }

        return settings;
    }

    public static HttpRequestMessage With(this HttpRequestMessage request, string? key)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return request;
    }
}
