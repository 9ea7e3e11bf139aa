namespace PerfOtel.Testing;

/// <summary>
/// Waits for a condition another thread makes true (a background writer's commit, a flush beginning), polling every
/// 10 ms; gives up with the condition's description after the patience (20 s by default), which only a broken build
/// reaches. Tests use it to wait for a state, never to assert a duration.
/// </summary>
public static class Eventually
{
    /// <summary>How long <see cref="Until"/> waits by default.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>Completes once <paramref name="condition"/> holds; throws <see cref="TimeoutException"/> naming <paramref name="what"/> otherwise.</summary>
    public static async Task Until(Func<bool> condition, string what, TimeSpan? patience = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + (patience ?? Patience);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"gave up waiting for {what}");
            }
            await Task.Delay(10).ConfigureAwait(false);
        }
    }
}
