namespace PerfOtel.Benchmarks.Load;

/// <summary>
/// Latencies of the load drivers in 0.1 ms buckets up to 10 s: a fixed array, so measuring does not grow memory with
/// the run. Each interval takes its percentiles and starts afresh; the run's whole distribution is kept beside it.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int Buckets = 100_000;
    private readonly Lock _gate = new();
    private int[] _interval = new int[Buckets + 1];
    private readonly long[] _run = new long[Buckets + 1];
    private bool _recordRun;

    /// <summary>From now on, latencies also count towards <see cref="RunPercentile"/> (after the warm-up).</summary>
    public void StartRun()
    {
        lock (_gate)
        {
            _recordRun = true;
        }
    }

    public void Record(TimeSpan latency)
    {
        var bucket = (int)Math.Min(Buckets, latency.TotalMilliseconds * 10);
        lock (_gate)
        {
            _interval[bucket]++;
            if (_recordRun)
            {
                _run[bucket]++;
            }
        }
    }

    /// <summary>The interval's p50 and p99 in milliseconds (NaN when nothing was recorded), and a fresh interval.</summary>
    public (double P50, double P99) TakeInterval()
    {
        int[] histogram;
        lock (_gate)
        {
            histogram = _interval;
            _interval = new int[Buckets + 1];
        }

        var counts = Array.ConvertAll(histogram, c => (long)c);
        return (Percentile(counts, 0.50), Percentile(counts, 0.99));
    }

    /// <summary>A percentile in milliseconds over everything recorded since <see cref="StartRun"/>.</summary>
    public double RunPercentile(double quantile)
    {
        lock (_gate)
        {
            return Percentile(_run, quantile);
        }
    }

    private static double Percentile(long[] histogram, double quantile)
    {
        long count = 0;
        foreach (var c in histogram)
        {
            count += c;
        }

        if (count == 0)
        {
            return double.NaN;
        }

        var rank = (long)Math.Ceiling(quantile * count);
        long seen = 0;
        for (var bucket = 0; bucket < histogram.Length; bucket++)
        {
            seen += histogram[bucket];
            if (seen >= rank)
            {
                return (bucket + 1) / 10.0;
            }
        }

        return Buckets / 10.0;
    }
}
