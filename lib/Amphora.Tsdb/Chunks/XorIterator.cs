using System.Buffers.Binary;
using Amphora.Storage;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Tsdb.Chunks;

/// <summary>
/// Decodes an XOR chunk sample by sample. Reusable through <see cref="Reset"/>; errors (a truncated or malformed chunk) are
/// sticky in <see cref="Err"/>.
/// </summary>
public sealed class XorIterator : ISampleIterator
{
    private BitCursor _bits;
    private int _total, _read;
    private long _t, _tDelta;
    private double _v;
    private byte _leading, _trailing;
    private Exception? _err;
    private bool _done;

    public XorIterator(byte[] chunk) : this(chunk, chunk.Length) { }

    public XorIterator(byte[] chunk, int length) => Reset(chunk, length);

    public void Reset(byte[] chunk, int length)
    {
        _err = null;
        _done = false;
        _read = 0;
        _t = _tDelta = 0;
        _v = 0;
        _leading = _trailing = 0;
        if (length < 2)
        {
            _err = new InvalidDataException("an XOR chunk needs at least its 2-byte header");
            _total = 0;
            return;
        }
        _total = BinaryPrimitives.ReadUInt16BigEndian(chunk);
        _bits.Reset(chunk, length, 2);
    }

    public Exception? Err => _err;

    public ValueType Next()
    {
        if (_err is not null || _read >= _total)
        {
            _done = true;
            return ValueType.None;
        }
        try
        {
            if (_read == 0)
            {
                _t = _bits.ReadVarint();
                _v = BitConverter.UInt64BitsToDouble(_bits.ReadBits(64));
            }
            else if (_read == 1)
            {
                _tDelta = (long)_bits.ReadUvarint();
                _t += _tDelta;
                ReadValue();
            }
            else
            {
                long dod = 0;
                int size = 0;
                if (_bits.ReadBit())
                {
                    if (!_bits.ReadBit()) size = 14;
                    else if (!_bits.ReadBit()) size = 17;
                    else if (!_bits.ReadBit()) size = 20;
                    else size = 64;
                }
                if (size > 0)
                {
                    ulong bits = _bits.ReadBits(size);
                    dod = size == 64 ? (long)bits : bits > 1UL << (size - 1) ? (long)bits - (1L << size) : (long)bits;
                }
                _tDelta += dod;
                _t += _tDelta;
                ReadValue();
            }
        }
        catch (InvalidDataException e)
        {
            _err = e;
            return ValueType.None;
        }
        _read++;
        return ValueType.Float;
    }

    private void ReadValue()
    {
        if (!_bits.ReadBit()) return; // same value
        if (_bits.ReadBit())
        {
            _leading = (byte)_bits.ReadBits(5);
            int significant = (int)_bits.ReadBits(6);
            if (significant == 0) significant = 64;
            _trailing = (byte)(64 - _leading - significant);
        }
        int width = 64 - _leading - _trailing;
        ulong delta = _bits.ReadBits(width) << _trailing;
        _v = BitConverter.UInt64BitsToDouble(BitConverter.DoubleToUInt64Bits(_v) ^ delta);
    }

    public ValueType Seek(long t)
    {
        if (_err is not null) return ValueType.None;
        if (_done) return ValueType.None;
        if (_read > 0 && _t >= t) return ValueType.Float;
        while (true)
        {
            var state = Next();
            if (state == ValueType.None) return state;
            if (_t >= t) return state;
        }
    }

    public (long T, double V) At() => (_t, _v);
    public long AtT() => _t;
}
