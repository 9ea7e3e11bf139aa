namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// A sum of doubles that is the same in whatever order they are added (docs/architecture.md, principle 7). Floating-point
/// addition is not associative: a bucket that sums a week's accuracy samples as they commit (live) and in start-time
/// order (replay) can differ in the last bit. Each value is rounded once to a fixed point of 2^-64 and the fixed points
/// are added as integers, which is associative, so the sum depends only on the multiset of values; it is read back as the
/// double nearest the exact sum of those rounded values. Adding a value and then its negation restores the sum exactly.
/// </summary>
public struct OrderFreeSum
{
    /// <summary>2^64: one unit is 2^-64 (about 5.4e-20).</summary>
    private const double Scale = 18446744073709551616.0;

    /// <summary>Largest magnitude added (2^60, about 1.2e18): the sum of 2^66 such values still fits.</summary>
    private const double Limit = 1152921504606846976.0;

    private Int128 units;

    /// <summary>The sum, as the double nearest to it.</summary>
    public readonly double Value => (double)units / Scale;

    /// <summary>Adds a value; non-finite values are not added, magnitudes beyond 2^60 are clamped.</summary>
    public void Add(double value)
    {
        if (double.IsFinite(value))
        {
            units += (Int128)Math.Round(Math.Clamp(value, -Limit, Limit) * Scale);
        }
    }

    /// <summary>Adds another sum (merging buckets, windows or replicas).</summary>
    public void Add(in OrderFreeSum other) => units += other.units;

    /// <summary>Back to zero.</summary>
    public void Clear() => units = Int128.Zero;
}
