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
                // The delta-of-delta's bucket: 0, 10, 110, 1110 or 1111, read with one look at the next four bits.
                long dod = 0;
                int size;
                ulong prefix = _bits.PeekBits(4);
                if ((prefix & 0b1000) == 0) { _bits.Skip(1); size = 0; }
                else if ((prefix & 0b0100) == 0) { _bits.Skip(2); size = 14; }
                else if ((prefix & 0b0010) == 0) { _bits.Skip(3); size = 17; }
                else if ((prefix & 0b0001) == 0) { _bits.Skip(4); size = 20; }
                else { _bits.Skip(4); size = 64; }
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

    private void ReadValue() => _bits.ReadXor(ref _v, ref _leading, ref _trailing);

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
