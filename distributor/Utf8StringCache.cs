using System.Collections.Concurrent;
using System.IO.Hashing;

namespace Amphora.Distributor;

/// <summary>
/// Label names and metric names decoded once per process instead of once per received series: a fleet sends the same few
/// hundred names in every request (a request of 2,000 series carries some 12,000 names), and each decoding allocated a string
/// the head then dropped for its own copy. Looked up by the received UTF-8 bytes without allocating. Only text that decoded
/// as valid UTF-8 is added, up to about <see cref="DefaultMaxEntries"/> entries of up to <see cref="MaxBytes"/> bytes each (about 2.5 MiB):
/// once full, further names are decoded as before, so a sender of endless distinct names costs the cap and no more.
/// Thread-safe.
/// </summary>
public sealed class Utf8StringCache
{
    public const int DefaultMaxEntries = 16_384;
    public const int MaxBytes = 128;

    /// <summary>The process's cache, which the validator uses.</summary>
    public static readonly Utf8StringCache Shared = new();

    private readonly ConcurrentDictionary<byte[], string>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private int _count;

    public Utf8StringCache(int maxEntries = DefaultMaxEntries)
    {
        MaxEntries = maxEntries;
        _lookup = new ConcurrentDictionary<byte[], string>(BytesComparer.Instance).GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public int MaxEntries { get; }
    public int Count => Volatile.Read(ref _count);

    public bool TryGet(ReadOnlySpan<byte> utf8, out string text)
    {
        if (utf8.Length <= MaxBytes && _lookup.TryGetValue(utf8, out var found))
        {
            text = found;
            return true;
        }
        text = "";
        return false;
    }

    /// <summary>Remembers <paramref name="text"/>, the strict UTF-8 decoding of <paramref name="utf8"/>, while there is room.</summary>
    public void Add(ReadOnlySpan<byte> utf8, string text)
    {
        if (utf8.Length > MaxBytes || Volatile.Read(ref _count) >= MaxEntries) return;
        if (_lookup.TryAdd(utf8, text)) Interlocked.Increment(ref _count);
    }

    private sealed class BytesComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly BytesComparer Instance = new();
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] bytes) => GetHashCode((ReadOnlySpan<byte>)bytes);
        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);
        public int GetHashCode(ReadOnlySpan<byte> alternate) => (int)XxHash3.HashToUInt64(alternate);
        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
