using System.Buffers.Binary;
using Amphora.Model;

namespace Amphora.Tsdb.Chunks;

/// <summary>
/// Prometheus's float histogram chunk (encoding 3), bit-compatible with Prometheus: the header and layout of
/// <see cref="HistogramChunk"/>, then per sample the timestamp (raw, then deltas of deltas in varbit) and the count, zero
/// count, sum and every bucket's absolute count as floats (64 raw bits, then each XOR'd with its own predecessor in its own
/// leading/trailing window). A staleness marker carries no buckets. Single writer.
/// </summary>
public sealed class FloatHistogramChunk
{
    public const byte Encoding = 3;
    public const int MaxSamples = HistogramChunk.MaxSamples;

    private struct XorState
    {
        public double Value;
        public byte Leading, Trailing;
        public static XorState Start(double v) => new() { Value = v, Leading = 0xff };
    }

    private BitWriter _bits = new(new byte[64], 3);
    private long _t, _tDelta;
    private XorState _count, _zeroCount, _sum;
    private XorState[] _positive = [], _negative = [];

    public FloatHistogramChunk(CounterResetHint header = CounterResetHint.Unknown) => HistogramChunk.SetHeader(_bits.Buffer, header);

    public int Count { get; private set; }
    public long MinT { get; private set; }
    public long MaxT => _t;
    public HistogramLayout Layout { get; private set; } = HistogramLayout.Empty;
    public bool LastIsStale => Count > 0 && StaleNaN.Is(_sum.Value);
    public CounterResetHint Header => HistogramChunk.ReadHeader(_bits.Buffer);
    internal double LastCount => _count.Value;
    internal double LastZeroCount => _zeroCount.Value;
    internal double[] LastPositive() => Array.ConvertAll(_positive, x => x.Value);
    internal double[] LastNegative() => Array.ConvertAll(_negative, x => x.Value);

    public ReadOnlySpan<byte> Bytes => _bits.Buffer.AsSpan(0, _bits.Length);
    public byte[] Snapshot() => Bytes.ToArray();
    public ChunkData ToChunkData() => new(Snapshot(), MinT, MaxT, Count, Encoding);

    /// <summary>Appends a sample with the chunk's layout (the first sets it; <paramref name="layout"/> is ignored later), or a
    /// staleness marker (a stale NaN <paramref name="sum"/>: its counts and buckets are not written).</summary>
    public void Append(long t, HistogramLayout layout, double count, double zeroCount, double sum, ReadOnlySpan<double> positive, ReadOnlySpan<double> negative)
    {
        bool stale = StaleNaN.Is(sum);
        if (Count == 0)
        {
            if (stale)
            {
                layout = HistogramLayout.Empty;
                count = zeroCount = 0;
                positive = negative = [];
            }
            layout.Write(ref _bits);
            Layout = layout;
            _bits.WriteVarbitInt(t);
            _bits.WriteBits(BitConverter.DoubleToUInt64Bits(count), 64);
            _bits.WriteBits(BitConverter.DoubleToUInt64Bits(zeroCount), 64);
            _bits.WriteBits(BitConverter.DoubleToUInt64Bits(sum), 64);
            _count = XorState.Start(count);
            _zeroCount = XorState.Start(zeroCount);
            _sum = XorState.Start(sum);
            _positive = new XorState[positive.Length];
            _negative = new XorState[negative.Length];
            for (int i = 0; i < positive.Length; i++)
            {
                _bits.WriteBits(BitConverter.DoubleToUInt64Bits(positive[i]), 64);
                _positive[i] = XorState.Start(positive[i]);
            }
            for (int i = 0; i < negative.Length; i++)
            {
                _bits.WriteBits(BitConverter.DoubleToUInt64Bits(negative[i]), 64);
                _negative[i] = XorState.Start(negative[i]);
            }
            MinT = t;
        }
        else
        {
            long tDelta = t - _t;
            _bits.WriteVarbitInt(tDelta - _tDelta);
            _tDelta = tDelta;
            Write(ref _count, stale ? _count.Value : count);
            Write(ref _zeroCount, stale ? _zeroCount.Value : zeroCount);
            Write(ref _sum, sum);
            if (!stale)
            {
                for (int i = 0; i < _positive.Length; i++) Write(ref _positive[i], positive[i]);
                for (int i = 0; i < _negative.Length; i++) Write(ref _negative[i], negative[i]);
            }
        }
        _t = t;
        Count++;
        BinaryPrimitives.WriteUInt16BigEndian(_bits.Buffer, (ushort)Count);
    }

    private void Write(ref XorState state, double v)
    {
        _bits.WriteXor(v, state.Value, ref state.Leading, ref state.Trailing);
        state.Value = v;
    }
}
