using System.Diagnostics;
using PerfOtel.Exporter.Implementation.Serialization;

namespace PerfOtel.Exporter.Implementation.Scraping;

/// <summary>
/// Serves serialised scrapes: one collection at a time, scrapes that arrive while one runs share its result, and a
/// result is reused for <c>ScrapeResponseCacheDuration</c>. Buffers are leased to readers and reused once the last
/// reader of a superseded result is done, so steady-state scrapes allocate no series-sized memory.
/// </summary>
internal sealed class ScrapeCoordinator : IDisposable
{
    private readonly SemaphoreSlim collectionGate = new(1, 1);
    private readonly object sync = new();
    private readonly Stack<ExpositionBuffer> freeBuffers = new();
    private readonly ScrapeSnapshot?[] latest = new ScrapeSnapshot?[2];
    private readonly Func<ExpositionFormat, ExpositionBuffer, bool> collect;
    private readonly long cacheDurationTicks;
    private int collections;
    private int buffersCreated;
    private int waitingScrapes;
    private bool disposed;

    public ScrapeCoordinator(Func<ExpositionFormat, ExpositionBuffer, bool> collect, TimeSpan cacheDuration)
    {
        this.collect = collect;
        cacheDurationTicks = (long)(cacheDuration.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>Number of SDK collections run so far (for tests and diagnostics).</summary>
    public int Collections => Volatile.Read(ref collections);

    /// <summary>Series-sized buffers created so far (for tests: sequential scrapes of one format share one).</summary>
    public int BuffersCreated => Volatile.Read(ref buffersCreated);

    /// <summary>Scrapes waiting for the running collection.</summary>
    public int WaitingScrapes => Volatile.Read(ref waitingScrapes);

    /// <summary>Returns the current scrape in the given format, collecting when the cached one is stale.</summary>
    /// <exception cref="ScrapeCollectionException">The SDK collection failed.</exception>
    public async ValueTask<ScrapeLease> GetAsync(ExpositionFormat format, CancellationToken cancellationToken)
    {
        var requestedAt = Stopwatch.GetTimestamp();
        if (TryLeaseCurrent(format, requestedAt, out var lease))
        {
            return lease;
        }

        Interlocked.Increment(ref waitingScrapes);
        try
        {
            await collectionGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref waitingScrapes);
        }

        try
        {
            // A collection that finished while this scrape waited is newer than the request: share it.
            if (TryLeaseCurrent(format, requestedAt, out lease))
            {
                return lease;
            }

            var buffer = RentBuffer(format);
            bool collected;
            try
            {
                Interlocked.Increment(ref collections);
                collected = collect(format, buffer);
            }
            catch
            {
                ReturnBuffer(buffer);
                throw;
            }

            if (!collected)
            {
                ReturnBuffer(buffer);
                throw new ScrapeCollectionException();
            }

            var snapshot = new ScrapeSnapshot(buffer, Stopwatch.GetTimestamp()) { Readers = 1 };
            lock (sync)
            {
                var previous = latest[(int)format];
                latest[(int)format] = snapshot;
                if (previous is not null)
                {
                    previous.Superseded = true;
                    if (previous.Readers == 0)
                    {
                        ReleaseLocked(previous.Buffer);
                    }
                }
            }

            return new ScrapeLease(this, snapshot);
        }
        finally
        {
            collectionGate.Release();
        }
    }

    internal void Release(ScrapeSnapshot snapshot)
    {
        lock (sync)
        {
            snapshot.Readers--;
            if (snapshot.Readers == 0 && snapshot.Superseded)
            {
                ReleaseLocked(snapshot.Buffer);
            }
        }
    }

    private bool TryLeaseCurrent(ExpositionFormat format, long requestedAt, out ScrapeLease lease)
    {
        lock (sync)
        {
            var snapshot = latest[(int)format];
            if (snapshot is not null
                && (snapshot.CompletedAt >= requestedAt || Stopwatch.GetTimestamp() - snapshot.CompletedAt < cacheDurationTicks))
            {
                snapshot.Readers++;
                lease = new ScrapeLease(this, snapshot);
                return true;
            }
        }

        lease = default;
        return false;
    }

    /// <summary>
    /// A buffer for the next collection of <paramref name="format"/>. The stale current result of that format is retired
    /// first when nobody is reading it, and its buffer is the one reused: with one scraper, every scrape writes into the
    /// buffer the last response was just sent from (still in the CPU caches, one series-sized buffer per format instead
    /// of two alternating ones). A scrape that looks for a current result meanwhile finds none and waits at the gate for
    /// this collection, which is newer than its request.
    /// </summary>
    private ExpositionBuffer RentBuffer(ExpositionFormat format)
    {
        lock (sync)
        {
            if (latest[(int)format] is { Readers: 0 } stale)
            {
                latest[(int)format] = null;
                return stale.Buffer;
            }

            if (freeBuffers.TryPop(out var buffer))
            {
                return buffer;
            }

            buffersCreated++;
            return new ExpositionBuffer();
        }
    }

    private void ReturnBuffer(ExpositionBuffer buffer)
    {
        lock (sync)
        {
            ReleaseLocked(buffer);
        }
    }

    private void ReleaseLocked(ExpositionBuffer buffer)
    {
        if (disposed)
        {
            buffer.Dispose();
        }
        else
        {
            freeBuffers.Push(buffer);
        }
    }

    public void Dispose()
    {
        lock (sync)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            while (freeBuffers.TryPop(out var buffer))
            {
                buffer.Dispose();
            }

            // Buffers still leased are disposed by their last reader; idle current ones now.
            for (var i = 0; i < latest.Length; i++)
            {
                if (latest[i] is { } snapshot)
                {
                    snapshot.Superseded = true;
                    if (snapshot.Readers == 0)
                    {
                        snapshot.Buffer.Dispose();
                    }

                    latest[i] = null;
                }
            }
        }
    }
}

/// <summary>A serialised scrape and the number of responses still reading it.</summary>
internal sealed class ScrapeSnapshot
{
    public ScrapeSnapshot(ExpositionBuffer buffer, long completedAt)
    {
        Buffer = buffer;
        CompletedAt = completedAt;
    }

    public ExpositionBuffer Buffer { get; }

    public long CompletedAt { get; }

    public int Readers { get; set; }

    public bool Superseded { get; set; }
}

/// <summary>Read access to a scrape until disposed.</summary>
internal readonly struct ScrapeLease : IDisposable
{
    private readonly ScrapeCoordinator? owner;
    private readonly ScrapeSnapshot? snapshot;

    public ScrapeLease(ScrapeCoordinator owner, ScrapeSnapshot snapshot)
    {
        this.owner = owner;
        this.snapshot = snapshot;
    }

    public ReadOnlyMemory<byte> Content => snapshot?.Buffer.Written ?? ReadOnlyMemory<byte>.Empty;

    /// <summary>Ranges of <see cref="Content"/> that come with their own gzip member, in order.</summary>
    public IReadOnlyList<CompressedRange> CompressedRanges => snapshot?.Buffer.CompressedRanges ?? [];

    public void Dispose()
    {
        if (owner is not null && snapshot is not null)
        {
            owner.Release(snapshot);
        }
    }
}

/// <summary>The SDK collection behind a scrape failed or timed out.</summary>
internal sealed class ScrapeCollectionException : Exception
{
    public ScrapeCollectionException()
        : base("Metric collection failed.")
    {
    }
}
