using System.Buffers.Binary;
using Amphora.Model;
using Amphora.Storage;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Tsdb.Chunks;

/// <summary>
/// Decodes a histogram chunk (encoding 2) sample by sample; <see cref="AtHistogram"/> returns a new histogram each time (the
/// caller may keep it). Errors (a truncated or malformed chunk) are sticky in <see cref="Err"/>. A histogram sample has no
/// float value: <see cref="At"/> throws.
/// </summary>
public sealed class HistogramIterator : ISampleIterator
{
    private BitCursor _bits;
    private int _total, _read;
    private CounterResetHint _header;
    private HistogramLayout _layout = HistogramLayout.Empty;
    private long _t, _tDelta;
    private ulong _count, _zeroCount;
    private long _countDelta, _zeroCountDelta;
    private long[] _positive = [], _negative = [], _positiveDelta = [], _negativeDelta = [];
    private double _sum;
    private byte _leading, _trailing;
    private Exception? _err;

    public HistogramIterator(byte[] chunk) : this(chunk, chunk.Length) { }

    public HistogramIterator(byte[] chunk, int length) => Reset(chunk, length);

    public void Reset(byte[] chunk, int length)
    {
        _err = null;
        _read = 0;
        _t = _tDelta = _countDelta = _zeroCountDelta = 0;
        _count = _zeroCount = 0;
        _sum = 0;
        _leading = _trailing = 0;
        if (length < 3)
        {
            _err = new InvalidDataException("a histogram chunk needs at least its 3-byte header");
            _total = 0;
            return;
        }
        _total = BinaryPrimitives.ReadUInt16BigEndian(chunk);
        _header = HistogramChunk.ReadHeader(chunk);
        _bits.Reset(chunk, length, 3);
    }

    public Exception? Err => _err;

    /// <summary>The chunk's counter-reset header.</summary>
    public CounterResetHint Header => _header;

    public ValueType Next()
    {
        if (_err is not null || _read >= _total) return ValueType.None;
        try
        {
            if (_read == 0)
            {
                _layout = HistogramLayout.Read(ref _bits);
                int np = _layout.PositiveCount, nn = _layout.NegativeCount;
                _positive = new long[np];
                _negative = new long[nn];
                _positiveDelta = new long[np];
                _negativeDelta = new long[nn];
                _t = _bits.ReadVarbitInt();
                _count = _bits.ReadVarbitUint();
                _zeroCount = _bits.ReadVarbitUint();
                _sum = BitConverter.UInt64BitsToDouble(_bits.ReadBits(64));
                for (int i = 0; i < np; i++) _positive[i] = _bits.ReadVarbitInt();
                for (int i = 0; i < nn; i++) _negative[i] = _bits.ReadVarbitInt();
            }
            else
            {
                _tDelta += _bits.ReadVarbitInt();
                _t += _tDelta;
                _countDelta += _bits.ReadVarbitInt();
                _count = (ulong)((long)_count + _countDelta);
                _zeroCountDelta += _bits.ReadVarbitInt();
                _zeroCount = (ulong)((long)_zeroCount + _zeroCountDelta);
                _bits.ReadXor(ref _sum, ref _leading, ref _trailing);
                if (!StaleNaN.Is(_sum))
                {
                    ReadBuckets(_positive, _positiveDelta);
                    ReadBuckets(_negative, _negativeDelta);
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or OverflowException)
        {
            _err = e as InvalidDataException ?? new InvalidDataException("the histogram chunk has a value out of range", e);
            return ValueType.None;
        }
        _read++;
        return ValueType.Histogram;
    }

    private void ReadBuckets(long[] values, long[] deltas)
    {
        for (int i = 0; i < values.Length; i++)
        {
            deltas[i] += _bits.ReadVarbitInt();
            values[i] += deltas[i];
        }
    }

    public ValueType Seek(long t) => ChunkIterators.Seek(this, t, _err is null && _read > 0 && _t >= t, ValueType.Histogram);

    public (long T, double V) At() => throw new InvalidOperationException("the iterator is on a histogram sample, which has no float value");

    public long AtT() => _t;

    /// <summary>The current sample (valid after Next/Seek returned <see cref="ValueType.Histogram"/>); a new object.</summary>
    public Histogram AtHistogram()
    {
        if (StaleNaN.Is(_sum)) return Histogram.Stale();
        return new Histogram
        {
            CounterResetHint = HintOf(_header, _read),
            Schema = _layout.Schema,
            ZeroThreshold = _layout.ZeroThreshold,
            ZeroCount = _zeroCount,
            Count = _count,
            Sum = _sum,
            PositiveSpans = _layout.PositiveSpans,
            NegativeSpans = _layout.NegativeSpans,
            PositiveBuckets = (long[])_positive.Clone(),
            NegativeBuckets = (long[])_negative.Clone(),
            CustomValues = _layout.CustomValues,
        };
    }

    /// <summary>The current sample converted to float counts (into <paramref name="into"/> when given).</summary>
    public (long T, FloatHistogram H) AtFloatHistogram(FloatHistogram? into = null) => (_t, AtHistogram().ToFloat(into));

    /// <summary>The hint a sample gets from its chunk, as Prometheus gives it: gauge for a gauge chunk; no reset for every sample
    /// after the first; the header for the first.</summary>
    internal static CounterResetHint HintOf(CounterResetHint header, int read) => header switch
    {
        CounterResetHint.Gauge => CounterResetHint.Gauge,
        _ when read > 1 => CounterResetHint.NotCounterReset,
        CounterResetHint.CounterReset => CounterResetHint.CounterReset,
        _ => CounterResetHint.Unknown,
    };
}
