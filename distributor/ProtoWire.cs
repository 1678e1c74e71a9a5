namespace Amphora.Distributor;

/// <summary>
/// Walks protobuf framing in place, without decoding: the length-delimited fields of a message, for the scans that hold a
/// body to the per-request limits before it is parsed (OTLP, remote write 2.0). A malformed frame stops the walk (false);
/// the parser then names what is wrong.
/// </summary>
public static class ProtoWire
{
    public delegate bool Visit(ReadOnlySpan<byte> value);
    public delegate bool VisitField(int field, ReadOnlySpan<byte> value);

    /// <summary>Calls <paramref name="visit"/> for each length-delimited value of field <paramref name="number"/>.</summary>
    public static bool Each(ReadOnlySpan<byte> message, int number, Visit visit) =>
        EachField(message, (field, value) => field != number || visit(value));

    /// <summary>Calls <paramref name="visit"/> for each length-delimited field; other wire types are skipped. False when malformed.</summary>
    public static bool EachField(ReadOnlySpan<byte> message, VisitField visit)
    {
        int pos = 0;
        while (pos < message.Length)
        {
            if (!Varint(message, ref pos, out ulong tag) || tag >> 3 == 0) return false;
            switch ((int)(tag & 7))
            {
                case 0:
                    if (!Varint(message, ref pos, out _)) return false;
                    break;
                case 1:
                    pos += 8;
                    break;
                case 2:
                    if (!Varint(message, ref pos, out ulong length) || length > (ulong)(message.Length - pos)) return false;
                    if (!visit((int)(tag >> 3), message.Slice(pos, (int)length))) return false;
                    pos += (int)length;
                    break;
                case 5:
                    pos += 4;
                    break;
                default:
                    return false;
            }
            if (pos > message.Length) return false;
        }
        return true;
    }

    private static bool Varint(ReadOnlySpan<byte> buffer, ref int pos, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && pos < buffer.Length; shift += 7)
        {
            byte b = buffer[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return true;
        }
        return false;
    }

    /// <summary>The number of varints in a packed repeated field's payload.</summary>
    public static long PackedVarints(ReadOnlySpan<byte> payload)
    {
        long n = 0;
        foreach (byte b in payload)
            if ((b & 0x80) == 0) n++;
        return n;
    }
}
