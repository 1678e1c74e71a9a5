using System.Buffers.Binary;
using Amphora.Model;

namespace Amphora.Tsdb.Chunks;

/// <summary>
/// Prometheus's histogram chunk (encoding 2) for integer native histograms, bit-compatible with Prometheus: a 2-byte
/// big-endian sample count, a flags byte whose top two bits are the counter-reset header, the layout
/// (<see cref="HistogramLayout"/>), then per sample the timestamp, count and zero count (raw, then as deltas of deltas in
/// varbit), the sum (64 raw bits, then XOR'd) and each bucket's delta-encoded count (raw, then deltas of deltas). Every sample
/// has the chunk's layout; a staleness marker carries no buckets. Single writer; <see cref="Snapshot"/> copies for readers.
/// </summary>
public sealed class HistogramChunk
{
    public const byte Encoding = 2;
    /// <summary>Prometheus cuts histogram chunks at 120 samples too (2.42 had no size-based cut).</summary>
    public const int MaxSamples = 120;

    private BitWriter _bits = new(new byte[64], 3);
    private long _t, _tDelta;
    private ulong _count, _zeroCount;
    private long _countDelta, _zeroCountDelta;
    private long[] _positive = [], _negative = [], _positiveDelta = [], _negativeDelta = [];
    private double _sum;
    private byte _leading = 0xff, _trailing;

    public HistogramChunk(CounterResetHint header = CounterResetHint.Unknown) => SetHeader(_bits.Buffer, header);

    public int Count { get; private set; }
    public long MinT { get; private set; }
    public long MaxT => _t;
    /// <summary>The chunk's layout; set by its first sample.</summary>
    public HistogramLayout Layout { get; private set; } = HistogramLayout.Empty;
    /// <summary>The delta-encoded bucket counts of the last sample, for counter-reset checks.</summary>
    internal ReadOnlySpan<long> LastPositive => _positive;
    internal ReadOnlySpan<long> LastNegative => _negative;
    internal ulong LastCount => _count;
    internal ulong LastZeroCount => _zeroCount;
    public bool LastIsStale => Count > 0 && StaleNaN.Is(_sum);
    public CounterResetHint Header => ReadHeader(_bits.Buffer);

    public ReadOnlySpan<byte> Bytes => _bits.Buffer.AsSpan(0, _bits.Length);
    public byte[] Snapshot() => Bytes.ToArray();
    public ChunkData ToChunkData() => new(Snapshot(), MinT, MaxT, Count, Encoding);

    /// <summary>Appends a sample with the chunk's layout (the first sample sets it), or a staleness marker.</summary>
    public void Append(long t, Histogram h)
    {
        bool stale = h.IsStale;
        if (Count == 0)
        {
            var layout = stale ? HistogramLayout.Empty : HistogramLayout.Of(h);
            layout.Write(ref _bits);
            Layout = layout;
            int np = layout.PositiveCount, nn = layout.NegativeCount;
            _positive = new long[np];
            _negative = new long[nn];
            _positiveDelta = new long[np];
            _negativeDelta = new long[nn];
            _bits.WriteVarbitInt(t);
            _bits.WriteVarbitUint(stale ? 0 : h.Count);
            _bits.WriteVarbitUint(stale ? 0 : h.ZeroCount);
            _bits.WriteBits(BitConverter.DoubleToUInt64Bits(h.Sum), 64);
            if (!stale)
            {
                foreach (long b in h.PositiveBuckets) _bits.WriteVarbitInt(b);
                foreach (long b in h.NegativeBuckets) _bits.WriteVarbitInt(b);
                h.PositiveBuckets.CopyTo(_positive, 0);
                h.NegativeBuckets.CopyTo(_negative, 0);
            }
            MinT = t;
            _count = stale ? 0 : h.Count;
            _zeroCount = stale ? 0 : h.ZeroCount;
        }
        else
        {
            // The second sample is the first delta of deltas against a zero delta: one code path for both.
            long tDelta = t - _t;
            _bits.WriteVarbitInt(tDelta - _tDelta);
            _tDelta = tDelta;
            if (stale)
            {
                _bits.WriteVarbitInt(0);
                _bits.WriteVarbitInt(0);
                _bits.WriteXor(h.Sum, _sum, ref _leading, ref _trailing);
            }
            else
            {
                long countDelta = (long)(h.Count - _count), zeroDelta = (long)(h.ZeroCount - _zeroCount);
                _bits.WriteVarbitInt(countDelta - _countDelta);
                _bits.WriteVarbitInt(zeroDelta - _zeroCountDelta);
                _countDelta = countDelta;
                _zeroCountDelta = zeroDelta;
                _count = h.Count;
                _zeroCount = h.ZeroCount;
                _bits.WriteXor(h.Sum, _sum, ref _leading, ref _trailing);
                WriteBuckets(h.PositiveBuckets, _positive, _positiveDelta);
                WriteBuckets(h.NegativeBuckets, _negative, _negativeDelta);
            }
        }
        _t = t;
        _sum = h.Sum;
        Count++;
        BinaryPrimitives.WriteUInt16BigEndian(_bits.Buffer, (ushort)Count);
    }

    /// <summary>Each bucket's delta-encoded count is stored as the delta of its deltas between samples.</summary>
    private void WriteBuckets(long[] encoded, long[] last, long[] lastDelta)
    {
        for (int i = 0; i < encoded.Length; i++)
        {
            long delta = encoded[i] - last[i];
            _bits.WriteVarbitInt(delta - lastDelta[i]);
            lastDelta[i] = delta;
            last[i] = encoded[i];
        }
    }

    internal static void SetHeader(byte[] bytes, CounterResetHint hint) => bytes[2] = (byte)((bytes[2] & 0x3f) | ((int)ToHeaderBits(hint) << 6));

    internal static CounterResetHint ReadHeader(ReadOnlySpan<byte> bytes) => (bytes[2] >> 6) switch
    {
        0b10 => CounterResetHint.CounterReset,
        0b01 => CounterResetHint.NotCounterReset,
        0b11 => CounterResetHint.Gauge,
        _ => CounterResetHint.Unknown,
    };

    private static byte ToHeaderBits(CounterResetHint hint) => hint switch
    {
        CounterResetHint.CounterReset => 0b10,
        CounterResetHint.NotCounterReset => 0b01,
        CounterResetHint.Gauge => 0b11,
        _ => 0,
    };
}
