using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Cost;

/// <summary>
/// Additive cost figures of a set of provider calls. The priced cost and the unpriced tokens are kept apart: a call
/// whose model has no price adds its tokens to <see cref="UnpricedTokens"/> and nothing to <see cref="CostUsd"/>, so
/// a total with unpriced tokens is a lower bound, never a silent 0.
/// A value (not an object): each committed call made several of them (its weighted figures for the ledger, the
/// counters, the budgets and the model comparison, and a sum a period), about a fifth of what the collector allocated
/// at full rate (#21).
/// </summary>
public readonly record struct CostTotals
{
    /// <summary>Provider calls.</summary>
    public long Calls { get; init; }

    /// <summary>Calls that had a cost.</summary>
    public long PricedCalls { get; init; }

    /// <summary>Sum of the costs of the priced calls, in US dollars.</summary>
    public double CostUsd { get; init; }

    /// <summary>Tokens of calls without a price.</summary>
    public long UnpricedTokens { get; init; }

    /// <summary>Tokens by type (input, output, cache read, cache creation, reasoning).</summary>
    public TokenCounts Tokens { get; init; }

    /// <summary>Nothing.</summary>
    public static CostTotals Zero { get; } = new();

    /// <summary>The figures of one call.</summary>
    public static CostTotals Of(ProviderCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var cost = call.CostUsd is { } c && double.IsFinite(c) ? c : (double?)null;
        return new CostTotals
        {
            Calls = 1,
            PricedCalls = cost is null ? 0 : 1,
            CostUsd = cost ?? 0,
            // A call without a cost whose tokens the receiver did not mark unpriced still has an unknown cost: count
            // its tokens as unpriced rather than pretend it was free.
            UnpricedTokens = cost is null ? Math.Max(call.UnpricedTokens, call.Tokens.Total) : call.UnpricedTokens,
            Tokens = call.Tokens,
        };
    }

    /// <summary>
    /// The figures the call stands for: <see cref="Of"/> times its sampling count (<see cref="SampleWeights.Count"/>),
    /// so a call of a one-in-ten sampled trace adds ten calls, ten times its tokens and ten times its cost. Totals over
    /// many calls use this; a single run's own figures use <see cref="Of"/>.
    /// </summary>
    public static CostTotals Weighted(ProviderCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var one = Of(call);
        var count = SampleWeights.Count(call.SampleWeight);
        return count == 1 ? one : new CostTotals
        {
            Calls = one.Calls * count,
            PricedCalls = one.PricedCalls * count,
            CostUsd = one.CostUsd * count,
            UnpricedTokens = one.UnpricedTokens * count,
            Tokens = one.Tokens.Times(count),
        };
    }

    /// <summary>The sum of two totals.</summary>
    public static CostTotals operator +(CostTotals a, CostTotals b)
    {
        return new CostTotals
        {
            Calls = a.Calls + b.Calls,
            PricedCalls = a.PricedCalls + b.PricedCalls,
            CostUsd = a.CostUsd + b.CostUsd,
            UnpricedTokens = a.UnpricedTokens + b.UnpricedTokens,
            Tokens = a.Tokens + b.Tokens,
        };
    }

    /// <summary>Same as <c>+</c>, for languages without operators.</summary>
    public static CostTotals Add(CostTotals left, CostTotals right) => left + right;
}
