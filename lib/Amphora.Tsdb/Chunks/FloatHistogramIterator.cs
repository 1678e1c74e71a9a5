using System.Buffers.Binary;
using Amphora.Model;
using Amphora.Storage;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Tsdb.Chunks;

/// <summary>
/// Decodes a float histogram chunk (encoding 3) sample by sample. The current sample is in <see cref="Layout"/>,
/// <see cref="CountValue"/>, <see cref="ZeroCountValue"/>, <see cref="SumValue"/>, <see cref="Positive"/> and
/// <see cref="Negative"/> (absolute bucket counts; the arrays are reused: copy them). Errors are sticky in <see cref="Err"/>.
/// </summary>
public sealed class FloatHistogramIterator : ISampleIterator
{
    private BitCursor _bits;
    private int _total, _read;
    private CounterResetHint _header;
    private long _t, _tDelta;
    private double _count, _zeroCount, _sum;
    private byte _countL, _countT, _zeroL, _zeroT, _sumL, _sumT;
    private double[] _positive = [], _negative = [];
    private byte[] _pL = [], _pT = [], _nL = [], _nT = [];
    private Exception? _err;

    public FloatHistogramIterator(byte[] chunk) : this(chunk, chunk.Length) { }

    public FloatHistogramIterator(byte[] chunk, int length) => Reset(chunk, length);

    public void Reset(byte[] chunk, int length)
    {
        _err = null;
        _read = 0;
        _t = _tDelta = 0;
        _count = _zeroCount = _sum = 0;
        _countL = _countT = _zeroL = _zeroT = _sumL = _sumT = 0;
        if (length < 3)
        {
            _err = new InvalidDataException("a float histogram chunk needs at least its 3-byte header");
            _total = 0;
            return;
        }
        _total = BinaryPrimitives.ReadUInt16BigEndian(chunk);
        _header = HistogramChunk.ReadHeader(chunk);
        _bits.Reset(chunk, length, 3);
    }

    public Exception? Err => _err;
    public HistogramLayout Layout { get; private set; } = HistogramLayout.Empty;
    public CounterResetHint Hint => HistogramIterator.HintOf(_header, _read);
    public double CountValue => _count;
    public double ZeroCountValue => _zeroCount;
    public double SumValue => _sum;
    public bool IsStale => StaleNaN.Is(_sum);
    public ReadOnlySpan<double> Positive => IsStale ? [] : _positive;
    public ReadOnlySpan<double> Negative => IsStale ? [] : _negative;

    public ValueType Next()
    {
        if (_err is not null || _read >= _total) return ValueType.None;
        try
        {
            if (_read == 0)
            {
                Layout = HistogramLayout.Read(ref _bits);
                int np = Layout.PositiveCount, nn = Layout.NegativeCount;
                _positive = new double[np];
                _negative = new double[nn];
                _pL = new byte[np];
                _pT = new byte[np];
                _nL = new byte[nn];
                _nT = new byte[nn];
                _t = _bits.ReadVarbitInt();
                _count = BitConverter.UInt64BitsToDouble(_bits.ReadBits(64));
                _zeroCount = BitConverter.UInt64BitsToDouble(_bits.ReadBits(64));
                _sum = BitConverter.UInt64BitsToDouble(_bits.ReadBits(64));
                for (int i = 0; i < np; i++) _positive[i] = BitConverter.UInt64BitsToDouble(_bits.ReadBits(64));
                for (int i = 0; i < nn; i++) _negative[i] = BitConverter.UInt64BitsToDouble(_bits.ReadBits(64));
            }
            else
            {
                _tDelta += _bits.ReadVarbitInt();
                _t += _tDelta;
                _bits.ReadXor(ref _count, ref _countL, ref _countT);
                _bits.ReadXor(ref _zeroCount, ref _zeroL, ref _zeroT);
                _bits.ReadXor(ref _sum, ref _sumL, ref _sumT);
                if (!StaleNaN.Is(_sum))
                {
                    for (int i = 0; i < _positive.Length; i++) _bits.ReadXor(ref _positive[i], ref _pL[i], ref _pT[i]);
                    for (int i = 0; i < _negative.Length; i++) _bits.ReadXor(ref _negative[i], ref _nL[i], ref _nT[i]);
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or OverflowException)
        {
            _err = e as InvalidDataException ?? new InvalidDataException("the float histogram chunk has a value out of range", e);
            return ValueType.None;
        }
        _read++;
        return ValueType.FloatHistogram;
    }

    public ValueType Seek(long t) => ChunkIterators.Seek(this, t, _err is null && _read > 0 && _t >= t, ValueType.FloatHistogram);

    public (long T, double V) At() => throw new InvalidOperationException("the iterator is on a float histogram sample, which has no float value");

    public long AtT() => _t;

    /// <summary>The current sample (into <paramref name="into"/> when given, else a new one); the caller owns it.</summary>
    public (long T, FloatHistogram H) AtFloatHistogram(FloatHistogram? into = null)
    {
        var h = into ?? new FloatHistogram();
        bool stale = IsStale;
        var layout = stale ? HistogramLayout.Empty : Layout;
        h.CounterResetHint = stale ? CounterResetHint.Unknown : Hint;
        h.Schema = layout.Schema;
        h.ZeroThreshold = layout.ZeroThreshold;
        h.ZeroCount = stale ? 0 : _zeroCount;
        h.Count = stale ? 0 : _count;
        h.Sum = _sum;
        h.PositiveSpans = layout.PositiveSpans;
        h.NegativeSpans = layout.NegativeSpans;
        h.PositiveBuckets = Positive.ToArray();
        h.NegativeBuckets = Negative.ToArray();
        h.CustomValues = layout.CustomValues;
        return (_t, h);
    }
}
