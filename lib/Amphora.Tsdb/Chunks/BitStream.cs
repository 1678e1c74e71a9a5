namespace Amphora.Tsdb.Chunks;

/// <summary>Writes bits most-significant first into a growing byte buffer (the bit stream of XOR and histogram chunks).</summary>
internal struct BitWriter
{
    private byte[] _bytes;
    private int _count;      // bytes in use (the last one possibly partial)
    private int _freeBits;   // unused bits in the last byte (0 = none, start a new byte)

    public BitWriter(byte[] initial, int length)
    {
        _bytes = initial;
        _count = length;
        _freeBits = 0;
    }

    public readonly int Length => _count;
    public readonly byte[] Buffer => _bytes;

    public void WriteBit(bool bit)
    {
        if (_freeBits == 0) AddByte();
        if (bit) _bytes[_count - 1] |= (byte)(1 << (_freeBits - 1));
        _freeBits--;
    }

    /// <summary>Writes the low <paramref name="nbits"/> bits of <paramref name="value"/>, most significant first.</summary>
    public void WriteBits(ulong value, int nbits)
    {
        value <<= 64 - nbits;
        while (nbits >= 8)
        {
            WriteByte((byte)(value >> 56));
            value <<= 8;
            nbits -= 8;
        }
        while (nbits > 0)
        {
            WriteBit((value >> 63) == 1);
            value <<= 1;
            nbits--;
        }
    }

    public void WriteByte(byte b)
    {
        if (_freeBits == 0)
        {
            AddByte();
            _bytes[_count - 1] = b;
            _freeBits = 0;
            return;
        }
        int free = _freeBits;
        _bytes[_count - 1] |= (byte)(b >> (8 - free));
        AddByte();
        _bytes[_count - 1] = (byte)(b << free);
        _freeBits = free; // the new byte has as many free bits as the previous one had
    }

    private void AddByte()
    {
        if (_count == _bytes.Length) Array.Resize(ref _bytes, Math.Max(16, _bytes.Length * 2));
        _bytes[_count++] = 0;
        _freeBits = 8;
    }
}

/// <summary>Reads bits most-significant first from a byte array; a plain struct so iterators can keep it between calls.</summary>
internal struct BitCursor
{
    private byte[] _bytes;
    private int _length;
    private long _bit;

    public void Reset(byte[] bytes, int length, int startByte)
    {
        _bytes = bytes;
        _length = length;
        _bit = startByte * 8L;
    }

    public readonly bool HasBits(int n) => _bit + n <= _length * 8L;

    public bool ReadBit()
    {
        if (!HasBits(1)) throw new InvalidDataException("the chunk ends in the middle of a sample");
        bool b = ((_bytes[(int)(_bit >> 3)] >> (7 - (int)(_bit & 7))) & 1) == 1;
        _bit++;
        return b;
    }

    /// <summary>
    /// The next <paramref name="n"/> bits (1 to 64), most significant first. Up to 57 bits come from one unaligned 8-byte
    /// big-endian load shifted by the bit offset, instead of byte by byte; only a 58- to 64-bit field takes two loads.
    /// </summary>
    public ulong ReadBits(int n)
    {
        if (!HasBits(n)) throw new InvalidDataException("the chunk ends in the middle of a sample");
        if (n > 57)
        {
            ulong high = Take(32);
            return (high << (n - 32)) | Take(n - 32);
        }
        return Take(n);
    }

    /// <summary>The next <paramref name="n"/> bits (at most 57) without consuming them; zeros past the end.</summary>
    public readonly ulong PeekBits(int n) => Peek64() >> (64 - n);

    /// <summary>Consumes <paramref name="n"/> bits already looked at with <see cref="PeekBits"/>.</summary>
    public void Skip(int n)
    {
        if (!HasBits(n)) throw new InvalidDataException("the chunk ends in the middle of a sample");
        _bit += n;
    }

    private ulong Take(int n)
    {
        ulong v = Peek64() >> (64 - n);
        _bit += n;
        return v;
    }

    /// <summary>The 64 bits from the current position, zeros past the end of the data.</summary>
    private readonly ulong Peek64()
    {
        int index = (int)(_bit >> 3);
        ulong word;
        if (index + 8 <= _length)
        {
            word = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(_bytes.AsSpan(index, 8));
        }
        else
        {
            word = 0;
            for (int i = 0; i < 8; i++) word = (word << 8) | (index + i < _length ? _bytes[index + i] : 0u);
        }
        return word << (int)(_bit & 7);
    }

    /// <summary>Reads a Go-style unsigned varint aligned to a byte boundary (the first two timestamps).</summary>
    public ulong ReadUvarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            ulong b = ReadBits(8);
            result |= (b & 0x7f) << shift;
            if (b < 0x80) return result;
        }
        throw new InvalidDataException("the chunk has an overlong varint");
    }

    public long ReadVarint()
    {
        ulong u = ReadUvarint();
        long x = (long)(u >> 1);
        return (u & 1) != 0 ? ~x : x;
    }
}
