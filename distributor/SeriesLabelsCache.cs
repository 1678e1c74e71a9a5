using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.IO.Hashing;
using Amphora.Model;

namespace Amphora.Distributor;

/// <summary>
/// Validated label sets of series seen before, keyed by the bytes of their label fields exactly as received (the repeated
/// <c>labels</c> submessages of a TimeSeries, tags and lengths included) and by the workspace and the validation settings in
/// force for it: a sender repeats a series' labels byte for byte in every request, so a known series skips decoding its
/// strings, validation and hashing (the cached <see cref="Labels"/> carries its <see cref="Labels.StableHash"/>). Only label
/// sets that passed validation enter. A workspace whose settings change (per-workspace overrides reload at runtime) gets a new
/// key space, so no entry made under the old settings is found again; those age out.
/// <para>
/// Bounded by entries and bytes, in two generations: lookups find entries in the current one, or move them there from the
/// previous one. The current generation becomes the previous one (and the previous one is dropped) once it is full, or once
/// there were more lookups since the last turn than four times the entries held, so a series that stopped being sent is
/// forgotten after about two turns while those still sent stay. When full and no turn is due, new label sets are simply not
/// added, so a working set larger than the cache costs a lookup per series, never a churn of entries. Thread-safe.
/// </para>
/// </summary>
public sealed class SeriesLabelsCache
{
    public const int DefaultMaxEntries = 500_000;
    public const long DefaultMaxBytes = 64L << 20;
    /// <summary>Bytes an entry is counted as besides its key: the dictionary node and key array headers and the label set.</summary>
    private const int EntryOverhead = 96;

    private static readonly Meter Meter = new("Amphora.Distributor");
    private static readonly Counter<long> Hits = Meter.CreateCounter<long>("amphora_distributor_series_cache_hits",
        description: "Received series whose labels were found in the distributor's cache of validated label sets.");
    private static readonly Counter<long> Misses = Meter.CreateCounter<long>("amphora_distributor_series_cache_misses",
        description: "Received series whose labels were decoded and validated (not in the distributor's cache).");

    private sealed class Generation
    {
        public readonly ConcurrentDictionary<byte[], Labels> Entries = new(KeyComparer.Instance);
        public readonly ConcurrentDictionary<byte[], Labels>.AlternateLookup<LookupKey> Lookup;
        public int Count;
        public long Bytes;
        public Generation() => Lookup = Entries.GetAlternateLookup<LookupKey>();
    }

    private readonly ConcurrentDictionary<string, (ValidationOptions Options, int Context)> _contexts = new(StringComparer.Ordinal);
    private readonly Lock _turnLock = new();
    private Generation _current = new(), _previous = new();
    private long _lookupsSinceTurn;
    private int _nextContext;

    public SeriesLabelsCache(int maxEntries = DefaultMaxEntries, long maxBytes = DefaultMaxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxEntries);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        MaxEntries = maxEntries;
        MaxBytes = maxBytes;
    }

    /// <summary>The process's cache, which the distributor uses (its key spaces keep workspaces apart).</summary>
    public static readonly SeriesLabelsCache Shared = new();

    static SeriesLabelsCache()
    {
        Meter.CreateObservableGauge("amphora_distributor_series_cache_entries", () => (long)Shared.Count,
            description: "Validated label sets held by the distributor's series cache.");
        Meter.CreateObservableGauge("amphora_distributor_series_cache_bytes", () => Shared.Bytes,
            description: "Bytes the distributor's series cache counts for its entries (keys and an estimate of the rest).");
    }

    public int MaxEntries { get; }
    public long MaxBytes { get; }
    public int Count => Volatile.Read(ref _current.Count) + Volatile.Read(ref _previous.Count);
    public long Bytes => Volatile.Read(ref _current.Bytes) + Volatile.Read(ref _previous.Bytes);

    /// <summary>
    /// The key space of <paramref name="workspace"/> under <paramref name="options"/>: the same number while both stay the same,
    /// a new one when the workspace's validation settings change.
    /// </summary>
    public int Context(string workspace, ValidationOptions options)
    {
        if (_contexts.TryGetValue(workspace, out var known) && known.Options.Equals(options)) return known.Context;
        // A bound on the map itself: past it the key spaces start over (new numbers; old entries are never found again).
        if (_contexts.Count >= 100_000) _contexts.Clear();
        int context = Interlocked.Increment(ref _nextContext);
        _contexts[workspace] = (options, context);
        return context;
    }

    /// <summary>The validated labels of a series whose label fields were <paramref name="labelBytes"/>, when seen before.</summary>
    public bool TryGet(int context, ReadOnlySpan<byte> labelBytes, out Labels labels)
    {
        Interlocked.Increment(ref _lookupsSinceTurn);
        var key = new LookupKey(context, labelBytes);
        var current = _current;
        if (current.Lookup.TryGetValue(key, out labels!)) return true;
        var previous = _previous;
        if (previous.Lookup.TryRemove(key, out var stored, out labels!))
        {
            Interlocked.Decrement(ref previous.Count);
            Interlocked.Add(ref previous.Bytes, -Cost(stored));
            // Moved, not copied: keys are owned by the cache and never changed.
            if (current.Entries.TryAdd(stored, labels))
            {
                Interlocked.Increment(ref current.Count);
                Interlocked.Add(ref current.Bytes, Cost(stored));
            }
            return true;
        }
        labels = Labels.Empty;
        return false;
    }

    /// <summary>Remembers <paramref name="labels"/>, the validated labels of <paramref name="labelBytes"/>, while there is room.</summary>
    public void Add(int context, ReadOnlySpan<byte> labelBytes, Labels labels)
    {
        var current = _current;
        long cost = labelBytes.Length + 4 + EntryOverhead;
        bool full = Volatile.Read(ref current.Count) >= MaxEntries / 2 || Volatile.Read(ref current.Bytes) + cost > MaxBytes / 2;
        if (full || Volatile.Read(ref _lookupsSinceTurn) > 4L * Count + 4096) current = Turn(current);
        if (Volatile.Read(ref current.Count) >= MaxEntries / 2 || Volatile.Read(ref current.Bytes) + cost > MaxBytes / 2) return;
        var key = new byte[4 + labelBytes.Length];
        BitConverter.TryWriteBytes(key, context);
        labelBytes.CopyTo(key.AsSpan(4));
        if (current.Entries.TryAdd(key, labels))
        {
            Interlocked.Increment(ref current.Count);
            Interlocked.Add(ref current.Bytes, cost);
        }
    }

    /// <summary>Counts a request's lookups in /metrics (once per request, not per series).</summary>
    public static void CountLookups(long hits, long misses)
    {
        if (hits > 0) Hits.Add(hits);
        if (misses > 0) Misses.Add(misses);
    }

    /// <summary>Makes the current generation the previous one, unless another thread just did.</summary>
    private Generation Turn(Generation seen)
    {
        lock (_turnLock)
        {
            if (!ReferenceEquals(_current, seen)) return _current;
            _previous = seen;
            _current = new Generation();
            Volatile.Write(ref _lookupsSinceTurn, 0);
            return _current;
        }
    }

    private static long Cost(byte[] key) => key.Length + EntryOverhead;

    /// <summary>A lookup by context and received bytes, without allocating; stored keys are the context (4 bytes) then the bytes.</summary>
    private readonly ref struct LookupKey(int context, ReadOnlySpan<byte> bytes)
    {
        public readonly int Context = context;
        public readonly ReadOnlySpan<byte> Bytes = bytes;
    }

    private sealed class KeyComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<LookupKey, byte[]>
    {
        public static readonly KeyComparer Instance = new();
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] key) => Hash(BitConverter.ToInt32(key), key.AsSpan(4));
        public bool Equals(LookupKey alternate, byte[] other) =>
            other.Length == alternate.Bytes.Length + 4 && BitConverter.ToInt32(other) == alternate.Context && alternate.Bytes.SequenceEqual(other.AsSpan(4));
        public int GetHashCode(LookupKey alternate) => Hash(alternate.Context, alternate.Bytes);
        public byte[] Create(LookupKey alternate)
        {
            var key = new byte[4 + alternate.Bytes.Length];
            BitConverter.TryWriteBytes(key, alternate.Context);
            alternate.Bytes.CopyTo(key.AsSpan(4));
            return key;
        }

        /// <summary>Seeded with a secret of the process as well as the key space: the received bytes are a sender's choice, and
        /// the cache is shared by every workspace, so one sender must not be able to pick label sets that all land in one
        /// bucket and slow every other workspace's lookups.</summary>
        private static int Hash(int context, ReadOnlySpan<byte> bytes) => (int)XxHash3.HashToUInt64(bytes, Secret ^ context);

        private static readonly long Secret = BitConverter.ToInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
    }
}
