using Microsoft.Extensions.Options;

namespace PerfOtel.Collector.Receiving.Privacy;

/// <summary>
/// Configuration section <c>Privacy</c>: what of a tenant's telemetry the store may keep. By default no message
/// content, no clear user identifier, and no attribute beyond the mapped fields.
/// </summary>
public sealed class PrivacyOptions
{
    public const string SectionName = "Privacy";

    /// <summary>Minimum length of <see cref="UserIdHashKey"/>: a short key makes the hashes guessable by brute force.</summary>
    public const int MinimumHashKeyLength = 16;

    /// <summary>Keep message content (prompts, completions, tool arguments and results) for every tenant. Off by default.</summary>
    public bool CaptureContent { get; set; }

    /// <summary>The secret key of the HMAC-SHA256 that replaces user identifiers before they are stored.</summary>
    public string? UserIdHashKey { get; set; }

    /// <summary>
    /// Span attributes kept on invocation records as JSON (exact keys, or prefixes ending in <c>*</c>). The older
    /// <c>Otlp:AttributeAllowlist</c> is still read; the two lists are joined.
    /// </summary>
    public IList<string> AttributeAllowlist { get; } = [];

    /// <summary>Per-tenant overrides, by tenant name (<c>Privacy:Tenants:acme:CaptureContent</c>).</summary>
    public IDictionary<string, TenantPrivacyOptions> Tenants { get; } = new Dictionary<string, TenantPrivacyOptions>(StringComparer.Ordinal);
}

/// <summary>One tenant's overrides of <see cref="PrivacyOptions"/>.</summary>
public sealed class TenantPrivacyOptions
{
    /// <summary>Overrides <see cref="PrivacyOptions.CaptureContent"/> for this tenant when set.</summary>
    public bool? CaptureContent { get; set; }
}

internal sealed class PrivacyOptionsValidator(IOptions<OtlpOptions> otlp) : IValidateOptions<PrivacyOptions>
{
    public ValidateOptionsResult Validate(string? name, PrivacyOptions options)
    {
        var failures = new List<string>();
        foreach (var entry in options.AttributeAllowlist)
        {
            if (!AllowlistEntry.IsValid(entry))
            {
                failures.Add($"Privacy:AttributeAllowlist entry '{entry}' must be an attribute key or a prefix ending in '*' (and not '*' alone).");
            }
        }

        if (!string.IsNullOrEmpty(options.UserIdHashKey) && options.UserIdHashKey.Length < MinimumKeyLength)
        {
            failures.Add($"Privacy:UserIdHashKey must be at least {MinimumKeyLength} characters long (a short key lets anyone recompute the hashes).");
        }

        // Without a key the only safe way to store a user id would be not to store it; an operator who allowlisted
        // one expects to see it, so the collector refuses to start rather than silently drop or store it in clear.
        var allowlist = new Mapping.AttributeAllowlist(options.AttributeAllowlist.Concat(otlp.Value.AttributeAllowlist));
        var admitted = PrivacyAttributes.UserIdentifiers.Where(allowlist.Allows).ToList();
        if (admitted.Count > 0 && string.IsNullOrEmpty(options.UserIdHashKey))
        {
            failures.Add($"Privacy:UserIdHashKey must be set: the attribute allowlist admits user identifiers ({string.Join(", ", admitted)}), "
                + "which are stored only as keyed hashes.");
        }

        foreach (var (tenant, overrides) in options.Tenants)
        {
            if (string.IsNullOrWhiteSpace(tenant) || overrides is null)
            {
                failures.Add($"Privacy:Tenants:{tenant} must name a tenant and set CaptureContent.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private const int MinimumKeyLength = PrivacyOptions.MinimumHashKeyLength;
}

/// <summary>The syntax of an allowlist entry, shared by <c>Privacy:AttributeAllowlist</c> and <c>Otlp:AttributeAllowlist</c>.</summary>
internal static class AllowlistEntry
{
    public static bool IsValid(string? entry) =>
        !string.IsNullOrWhiteSpace(entry) && entry != "*" && (entry.IndexOf('*', StringComparison.Ordinal) is var star && (star < 0 || star == entry.Length - 1));
}
