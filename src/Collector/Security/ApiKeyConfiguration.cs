using System.Text.Json;

namespace PerfOtel.Collector.Security;

/// <summary>
/// Reads and checks the keys of the <c>Auth</c> section and of <c>Auth:KeysFile</c>. Every problem names the setting
/// (or the file entry) it is about, so a bad deployment fails at start-up with a message that says what to fix.
/// </summary>
internal static class ApiKeyConfiguration
{
    public const int MaxTenantLength = 256;

    private static readonly JsonSerializerOptions FileFormat = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static (IReadOnlyList<ApiKey> Keys, IReadOnlyList<string> Problems) Load(AuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        var keys = new List<ApiKey>();
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        for (var i = 0; i < options.Keys.Count; i++)
        {
            Add(options.Keys[i], $"{AuthOptions.SectionName}:Keys:{i}");
        }

        if (!string.IsNullOrWhiteSpace(options.KeysFile))
        {
            var fileSetting = $"{AuthOptions.SectionName}:KeysFile";
            var fromFile = ReadFile(options.KeysFile, fileSetting, problems);
            for (var i = 0; i < fromFile.Count; i++)
            {
                Add(fromFile[i], $"{fileSetting} ('{options.KeysFile}') entry {i}");
            }
        }

        if (options.Enabled && keys.Count == 0 && problems.Count == 0)
        {
            problems.Add($"{AuthOptions.SectionName}:Enabled is true but no key is configured: add {AuthOptions.SectionName}:Keys " +
                $"or {AuthOptions.SectionName}:KeysFile (make a key with 'new-api-key').");
        }

        return (keys, problems);

        void Add(ApiKeyOptions? key, string setting)
        {
            if (key is null)
            {
                problems.Add($"{setting} is empty.");
                return;
            }

            var before = problems.Count;
            if (string.IsNullOrWhiteSpace(key.Name))
            {
                problems.Add($"{setting}:Name is required (who holds the key, so it can be found and revoked).");
            }

            if (!ApiKeyHash.TryParseHex(key.Sha256, out var hash))
            {
                problems.Add($"{setting}:Sha256 must be the 64 hex digits of the key's SHA-256 (was '{key.Sha256}'); " +
                    "'hash-api-key' prints it.");
            }
            else if (seen.TryGetValue(key.Sha256!, out var first))
            {
                problems.Add($"{setting}:Sha256 is the same key as {first}: each key must appear once.");
            }
            else
            {
                seen.Add(key.Sha256!, setting);
            }

            if (!ApiRoles.TryParse(key.Role, out var role))
            {
                problems.Add($"{setting}:Role must be one of {string.Join(", ", ApiRoles.Names)} (was '{key.Role}').");
            }
            else if (role != ApiRole.Admin && string.IsNullOrWhiteSpace(key.Tenant))
            {
                problems.Add($"{setting}:Tenant is required for role {role.Name()}: the key acts for that tenant only.");
            }
            else if (role == ApiRole.Admin && !string.IsNullOrEmpty(key.Tenant))
            {
                problems.Add($"{setting}:Tenant must be empty for role admin (was '{key.Tenant}'): an admin key acts for " +
                    "every tenant and names one with ?tenant=.");
            }
            else if (key.Tenant is { Length: > MaxTenantLength })
            {
                problems.Add($"{setting}:Tenant must be at most {MaxTenantLength} characters.");
            }

            if (problems.Count == before)
            {
                keys.Add(new ApiKey(key.Name!, hash, role == ApiRole.Admin ? null : key.Tenant, role));
            }
        }
    }

    private static List<ApiKeyOptions?> ReadFile(string path, string setting, List<string> problems)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            problems.Add($"{setting} names '{path}', which cannot be read: {error.Message}");
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<List<ApiKeyOptions?>>(text, FileFormat)
                ?? throw new JsonException("the file holds null");
        }
        catch (JsonException error)
        {
            problems.Add($"{setting} names '{path}', which is not a JSON array of keys " +
                $"([{{\"name\": ..., \"sha256\": ..., \"tenant\": ..., \"role\": ...}}]): {error.Message}");
            return [];
        }
    }
}
