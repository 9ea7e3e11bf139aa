using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Storage;

/// <summary>
/// What the provider calls an invocation owns add up to in the five summary columns of <c>invocations</c> (migration 11:
/// <c>call_count</c>, <c>call_tokens</c>, <c>call_unpriced_tokens</c>, <c>call_retries</c>, <c>call_fallbacks</c>).
/// The stores' writers keep those columns themselves (no triggers): the sums of a batch's new calls are added in memory
/// and written with their invocation's insert or in one update per owner (docs/collector/storage.md).
/// </summary>
internal readonly record struct CallTotals(long Calls, long Tokens, long UnpricedTokens, long Retries, long Fallbacks)
{
    /// <summary>One call's share: the same rules as the run reads' roll-up (attempt above 1 retries, a fallback_from falls back).</summary>
    public static CallTotals Of(ProviderCall call) => new(1, call.Tokens.Input + call.Tokens.Output, call.UnpricedTokens,
        call.Attempt > 1 ? 1 : 0, call.FallbackFrom is not null ? 1 : 0);

    public static CallTotals operator +(CallTotals a, CallTotals b) => new(a.Calls + b.Calls, a.Tokens + b.Tokens,
        a.UnpricedTokens + b.UnpricedTokens, a.Retries + b.Retries, a.Fallbacks + b.Fallbacks);

    public static CallTotals operator -(CallTotals a) => new(-a.Calls, -a.Tokens, -a.UnpricedTokens, -a.Retries, -a.Fallbacks);

    public bool IsZero => Calls == 0 && Tokens == 0 && UnpricedTokens == 0 && Retries == 0 && Fallbacks == 0;

    /// <summary>The owner a call rolls up into: its invocation when known, else its parent span (owner_span_id).</summary>
    public static (string Tenant, string TraceId, string SpanId)? OwnerOf(ProviderCall call) =>
        (call.InvocationSpanId ?? call.ParentSpanId) is { } owner ? (call.Tenant, call.TraceId, owner) : null;

    /// <summary>The summary column names, in the order the writers bind them.</summary>
    public const string ColumnNames = "call_count, call_tokens, call_unpriced_tokens, call_retries, call_fallbacks";
}
