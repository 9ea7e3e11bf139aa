using System.Text.RegularExpressions;

namespace PerfOtel.Instrumentation.Pricing;

/// <summary>
/// The names under which a model reported by a provider may be priced, most specific first: providers answer with
/// dated snapshots (<c>gpt-4o-2024-08-06</c>), aliases (<c>-latest</c>), resource paths (<c>models/...</c>) and
/// cloud-vendor wrappers (<c>anthropic.claude-...-v1:0</c>, <c>claude-...@20240620</c>) of the names the catalog prices.
/// </summary>
internal static partial class ModelNameVariants
{
    /// <param name="normalized">A trimmed, lower-case model name.</param>
    public static List<string> Of(string normalized)
    {
        var variants = new List<string> { normalized };
        var name = normalized;

        var slash = name.LastIndexOf('/');
        if (slash >= 0 && slash < name.Length - 1)
        {
            name = name[(slash + 1)..];
            Add(variants, name);
        }
        // Bedrock-style vendor prefixes, possibly behind a region prefix: "us.anthropic.claude-...".
        while (VendorPrefix().Match(name) is { Success: true } prefix)
        {
            name = name[prefix.Length..];
            Add(variants, name);
        }
        var at = name.IndexOf('@', StringComparison.Ordinal);
        if (at > 0)
        {
            name = name[..at];
            Add(variants, name);
        }
        while (VersionSuffix().Match(name) is { Success: true } suffix)
        {
            name = name[..suffix.Index];
            Add(variants, name);
        }
        return variants;
    }

    private static void Add(List<string> variants, string name)
    {
        if (name.Length > 0 && !variants.Contains(name))
        {
            variants.Add(name);
        }
    }

    [GeneratedRegex(@"^[a-z]+\.(?=[a-z])", RegexOptions.CultureInvariant)]
    private static partial Regex VendorPrefix();

    // One suffix at a time, so that "-preview-05-20" then "-001" etc. peel off in turn.
    [GeneratedRegex(@"(-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{4}|-\d{3}|-latest|-preview(-\d{2}-\d{2})?|-exp(-\d{4})?|-v\d+(:\d+)?)$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionSuffix();
}
