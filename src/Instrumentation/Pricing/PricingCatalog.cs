using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text.Json;

namespace PerfOtel.Instrumentation.Pricing;

/// <summary>
/// Prices of LLM models in USD per million tokens, by provider and model. Immutable and thread-safe: overrides return
/// a new catalog. <see cref="Default"/> is the versioned catalog embedded in this assembly.
/// </summary>
/// <remarks>
/// <para>A model name is found by, in order: its exact (case-insensitive) name; the name without a path prefix
/// (<c>models/gemini-2.5-pro</c>) or a vendor prefix (<c>anthropic.claude-3-5-haiku-20241022-v1:0</c>); and the name with
/// its dated or version suffixes removed one after the other (<c>gpt-4o-2024-08-06</c>, <c>claude-sonnet-4-5-20250929</c>,
/// <c>mistral-large-2411</c>, <c>mistral-large-latest</c>, <c>gemini-2.0-flash-001</c>, <c>gemini-2.5-flash-preview-05-20</c>,
/// <c>claude-3-5-sonnet@20240620</c>). The provider is optional: when given (a <c>gen_ai.provider.name</c> value or an
/// alias from the catalog), that provider's models are searched first, then every provider's.</para>
/// <para>The JSON format, for <see cref="Parse"/>, <see cref="Load"/> and overrides:
/// <c>{"version": "...", "providers": {"openai": {"aliases": ["azure.ai.openai"], "models": {"gpt-4o":
/// {"input": 2.5, "output": 10, "cache_read": 1.25, "cache_write": 2.5, "reasoning": 10}}}}}</c>, prices in USD per
/// million tokens; <c>cache_read</c>, <c>cache_write</c> and <c>reasoning</c> are optional.</para>
/// </remarks>
public sealed class PricingCatalog
{
    private const string ModelOnlyProvider = "";
    private const int MaxCachedLookups = 4096;
    private static readonly Lazy<PricingCatalog> EmbeddedDefault = new(LoadEmbedded);

    // provider -> (model -> price); all keys lower-case. ModelOnlyProvider holds prices given without a provider.
    private readonly FrozenDictionary<string, FrozenDictionary<string, ModelPrice>> pricesByProvider;
    private readonly FrozenDictionary<string, string> providerByAlias;

    // Lookups repeat the same few (provider, model) pairs on every call; caching them keeps cost computation free of
    // allocations on the hot path. Bounded, because model names come from the outside.
    private readonly ConcurrentDictionary<(string Provider, string Model), ModelPrice?> resolved = new();

    private const int RecentLookupCount = 4;

    [ThreadStatic]
    private static RecentLookup[]? recentLookups;

    [ThreadStatic]
    private static int recentLookupNext;

    private PricingCatalog(
        string version,
        IReadOnlyDictionary<string, Dictionary<string, ModelPrice>> pricesByProvider,
        IReadOnlyDictionary<string, string> providerByAlias)
    {
        Version = version;
        this.pricesByProvider = pricesByProvider.ToFrozenDictionary(
            p => p.Key, p => p.Value.ToFrozenDictionary(StringComparer.Ordinal), StringComparer.Ordinal);
        this.providerByAlias = providerByAlias.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The catalog embedded in this assembly (see <see cref="Version"/> for the date of its prices).</summary>
    public static PricingCatalog Default => EmbeddedDefault.Value;

    /// <summary>
    /// The version of the prices: the embedded catalog's date, followed by <c>+</c> and the version of each override
    /// applied (<c>custom</c> for prices set from code or override files without a version).
    /// </summary>
    public string Version { get; }

    /// <summary>Every priced model as (provider, model, price); provider is empty for prices given without one.</summary>
    public IEnumerable<(string Provider, string Model, ModelPrice Price)> Entries =>
        pricesByProvider.SelectMany(p => p.Value.Select(m => (p.Key, m.Key, m.Value)));

    /// <summary>Parses a catalog from JSON (format in the remarks of <see cref="PricingCatalog"/>).</summary>
    /// <exception cref="FormatException">The JSON is malformed or does not follow the format; the message says where.</exception>
    public static PricingCatalog Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return PricingCatalogJson.Parse(json, "pricing JSON");
    }

    /// <summary>Loads a catalog from a JSON file (format in the remarks of <see cref="PricingCatalog"/>).</summary>
    /// <exception cref="FormatException">The file does not follow the format; the message names the file and the place.</exception>
    public static PricingCatalog Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return PricingCatalogJson.Parse(File.ReadAllText(path), path);
    }

    /// <summary>
    /// A catalog with the prices of <paramref name="overrides"/> replacing or adding to this one's, model by model;
    /// provider aliases are merged too.
    /// </summary>
    public PricingCatalog WithOverrides(PricingCatalog overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var prices = CopyPrices();
        foreach (var (provider, models) in overrides.pricesByProvider)
        {
            var target = GetOrAdd(prices, provider);
            foreach (var (model, price) in models)
            {
                target[model] = price;
            }
        }
        var aliases = providerByAlias.ToDictionary(StringComparer.Ordinal);
        foreach (var (alias, provider) in overrides.providerByAlias)
        {
            aliases[alias] = provider;
        }
        return new PricingCatalog($"{Version}+{overrides.Version}", prices, aliases);
    }

    /// <summary>A catalog with <paramref name="price"/> set for <paramref name="model"/> (of <paramref name="provider"/>, or of any provider when null).</summary>
    public PricingCatalog WithPrice(string? provider, string model, ModelPrice price)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(price);
        var prices = CopyPrices();
        var providerKey = string.IsNullOrWhiteSpace(provider) ? ModelOnlyProvider : Canonical(providerByAlias, Normalize(provider));
        GetOrAdd(prices, providerKey)[Normalize(model)] = price;
        var version = Version.EndsWith("+custom", StringComparison.Ordinal) ? Version : Version + "+custom";
        return new PricingCatalog(version, prices, providerByAlias);
    }

    /// <summary>Finds the price of a model (matching rules in the remarks of <see cref="PricingCatalog"/>).</summary>
    /// <returns>Whether the model has a price; when false, <paramref name="price"/> is null.</returns>
    public bool TryGetPrice(string? provider, string model, out ModelPrice price)
    {
        price = null!;
        if (string.IsNullOrWhiteSpace(model))
        {
            return false;
        }
        // Call sites ask for the same string instances over and over: a few per-thread answers, compared by
        // reference, skip hashing both names.
        var recent = recentLookups ??= new RecentLookup[RecentLookupCount];
        for (var i = 0; i < recent.Length; i++)
        {
            ref readonly var entry = ref recent[i];
            if (ReferenceEquals(entry.Model, model) && ReferenceEquals(entry.Provider, provider) && ReferenceEquals(entry.Catalog, this))
            {
                price = entry.Price!;
                return entry.Price is not null;
            }
        }
        var key = (provider ?? ModelOnlyProvider, model);
        if (!resolved.TryGetValue(key, out var found))
        {
            found = Resolve(provider, model);
            if (resolved.Count < MaxCachedLookups)
            {
                resolved.TryAdd(key, found);
            }
        }
        recent[recentLookupNext] = new RecentLookup(this, provider, model, found);
        recentLookupNext = (recentLookupNext + 1) % RecentLookupCount;
        if (found is null)
        {
            return false;
        }
        price = found;
        return true;
    }

    /// <summary>Computes the cost of <paramref name="usage"/> with the model's price (see <see cref="ModelPrice.ComputeCost"/>).</summary>
    /// <returns>Whether the model has a price; an unpriced model has no cost, never a cost of 0.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A token count is negative.</exception>
    public bool TryComputeCost(string? provider, string model, TokenUsage usage, out double costUsd)
    {
        if (TryGetPrice(provider, model, out var price))
        {
            costUsd = price.ComputeCost(usage);
            return true;
        }
        costUsd = 0;
        return false;
    }

    internal static PricingCatalog Create(
        string version,
        IReadOnlyDictionary<string, Dictionary<string, ModelPrice>> pricesByProvider,
        IReadOnlyDictionary<string, string> providerByAlias) =>
        new(version, pricesByProvider, providerByAlias);

    internal static string Normalize(string name) => name.Trim().ToLowerInvariant();

    private static string Canonical(IReadOnlyDictionary<string, string> aliases, string provider) =>
        aliases.TryGetValue(provider, out var canonical) ? canonical : provider;

    private ModelPrice? Resolve(string? provider, string model)
    {
        var candidates = ModelNameVariants.Of(Normalize(model));
        if (!string.IsNullOrWhiteSpace(provider)
            && pricesByProvider.TryGetValue(Canonical(providerByAlias, Normalize(provider)), out var own)
            && FirstMatch(own, candidates) is { } ownPrice)
        {
            return ownPrice;
        }
        if (pricesByProvider.TryGetValue(ModelOnlyProvider, out var anyProvider) && FirstMatch(anyProvider, candidates) is { } anyPrice)
        {
            return anyPrice;
        }
        // Each candidate across all providers before the next, shorter one: the most specific name wins.
        foreach (var candidate in candidates)
        {
            foreach (var (_, models) in pricesByProvider)
            {
                if (models.TryGetValue(candidate, out var price))
                {
                    return price;
                }
            }
        }
        return null;
    }

    private static ModelPrice? FirstMatch(FrozenDictionary<string, ModelPrice> models, List<string> candidates)
    {
        foreach (var candidate in candidates)
        {
            if (models.TryGetValue(candidate, out var price))
            {
                return price;
            }
        }
        return null;
    }

    private Dictionary<string, Dictionary<string, ModelPrice>> CopyPrices() =>
        pricesByProvider.ToDictionary(p => p.Key, p => p.Value.ToDictionary(StringComparer.Ordinal), StringComparer.Ordinal);

    private static Dictionary<string, ModelPrice> GetOrAdd(Dictionary<string, Dictionary<string, ModelPrice>> prices, string provider)
    {
        if (!prices.TryGetValue(provider, out var models))
        {
            models = new Dictionary<string, ModelPrice>(StringComparer.Ordinal);
            prices[provider] = models;
        }
        return models;
    }

    private readonly record struct RecentLookup(PricingCatalog Catalog, string? Provider, string Model, ModelPrice? Price);

    private static PricingCatalog LoadEmbedded()
    {
        const string resource = "PerfOtel.Instrumentation.Pricing.pricing-catalog.json";
        using var stream = typeof(PricingCatalog).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The embedded pricing catalog '{resource}' is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return PricingCatalogJson.Parse(reader.ReadToEnd(), "embedded pricing catalog");
    }
}
