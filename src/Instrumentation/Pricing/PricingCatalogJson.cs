using System.Globalization;
using System.Text.Json;

namespace PerfOtel.Instrumentation.Pricing;

/// <summary>
/// Reads the pricing JSON strictly: a misspelt field would otherwise silently leave a model at a fallback price.
/// </summary>
internal static class PricingCatalogJson
{
    private static readonly HashSet<string> TopLevelFields = ["version", "currency", "unit", "notes", "providers"];
    private static readonly HashSet<string> ProviderFields = ["aliases", "models"];
    private static readonly HashSet<string> PriceFields = ["input", "output", "cache_read", "cache_write", "reasoning"];

    public static PricingCatalog Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            var root = document.RootElement;
            Require(root.ValueKind == JsonValueKind.Object, source, "$", "must be an object");
            RejectUnknown(root, TopLevelFields, source, "$");

            var version = "custom";
            if (root.TryGetProperty("version", out var versionElement))
            {
                Require(versionElement.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(versionElement.GetString()),
                    source, "$.version", "must be a non-empty string");
                version = versionElement.GetString()!.Trim();
            }
            if (root.TryGetProperty("currency", out var currency))
            {
                Require(currency.ValueKind == JsonValueKind.String && string.Equals(currency.GetString(), "USD", StringComparison.OrdinalIgnoreCase),
                    source, "$.currency", "must be \"USD\" (prices are in US dollars)");
            }

            Require(root.TryGetProperty("providers", out var providers) && providers.ValueKind == JsonValueKind.Object,
                source, "$.providers", "must be an object of providers");

            var prices = new Dictionary<string, Dictionary<string, ModelPrice>>(StringComparer.Ordinal);
            var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var provider in providers.EnumerateObject())
            {
                var providerPath = $"$.providers.{provider.Name}";
                var providerKey = PricingCatalog.Normalize(provider.Name);
                Require(provider.Value.ValueKind == JsonValueKind.Object, source, providerPath, "must be an object");
                RejectUnknown(provider.Value, ProviderFields, source, providerPath);

                if (provider.Value.TryGetProperty("aliases", out var aliasList))
                {
                    Require(aliasList.ValueKind == JsonValueKind.Array, source, providerPath + ".aliases", "must be an array of strings");
                    foreach (var alias in aliasList.EnumerateArray())
                    {
                        Require(alias.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(alias.GetString()),
                            source, providerPath + ".aliases", "must contain non-empty strings");
                        aliases[PricingCatalog.Normalize(alias.GetString()!)] = providerKey;
                    }
                }

                var models = new Dictionary<string, ModelPrice>(StringComparer.Ordinal);
                if (provider.Value.TryGetProperty("models", out var modelList))
                {
                    Require(modelList.ValueKind == JsonValueKind.Object, source, providerPath + ".models", "must be an object of models");
                    foreach (var model in modelList.EnumerateObject())
                    {
                        var modelPath = $"{providerPath}.models.{model.Name}";
                        Require(!string.IsNullOrWhiteSpace(model.Name), source, modelPath, "a model name cannot be empty");
                        models[PricingCatalog.Normalize(model.Name)] = ReadPrice(model.Value, source, modelPath);
                    }
                }
                prices[providerKey] = models;
            }
            return PricingCatalog.Create(version, prices, aliases);
        }
    }

    private static ModelPrice ReadPrice(JsonElement element, string source, string path)
    {
        Require(element.ValueKind == JsonValueKind.Object, source, path, "must be an object with input and output prices");
        RejectUnknown(element, PriceFields, source, path);
        return new ModelPrice(
            ReadRequired(element, "input", source, path),
            ReadRequired(element, "output", source, path),
            ReadOptional(element, "cache_read", source, path),
            ReadOptional(element, "cache_write", source, path),
            ReadOptional(element, "reasoning", source, path));
    }

    private static double ReadRequired(JsonElement element, string field, string source, string path)
    {
        Require(element.TryGetProperty(field, out _), source, path, $"lacks the required price \"{field}\"");
        return ReadOptional(element, field, source, path)!.Value;
    }

    private static double? ReadOptional(JsonElement element, string field, string source, string path)
    {
        if (!element.TryGetProperty(field, out var value))
        {
            return null;
        }
        Require(value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var price) && double.IsFinite(price) && price >= 0,
            source, $"{path}.{field}", "must be a non-negative number of USD per million tokens");
        return value.GetDouble();
    }

    private static void RejectUnknown(JsonElement element, HashSet<string> known, string source, string path)
    {
        foreach (var property in element.EnumerateObject())
        {
            Require(known.Contains(property.Name), source, $"{path}.{property.Name}",
                $"is not a known field (expected one of: {string.Join(", ", known)})");
        }
    }

    private static void Require(bool condition, string source, string path, string problem)
    {
        if (!condition)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"{source}: {path} {problem}."));
        }
    }
}
