using System.Security.Cryptography;

namespace Amphora.Tsdb.Blocks;

/// <summary>
/// A ULID, the name of a block: 48 bits of creation time in milliseconds and 80 random bits, written as 26 characters of
/// Crockford's base32. Sorting the names sorts blocks by creation time.
/// </summary>
public readonly record struct Ulid(UInt128 Value) : IComparable<Ulid>
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static Ulid New(DateTimeOffset time)
    {
        Span<byte> random = stackalloc byte[10];
        RandomNumberGenerator.Fill(random);
        UInt128 value = (UInt128)(ulong)time.ToUnixTimeMilliseconds() << 80;
        for (int i = 0; i < 10; i++) value |= (UInt128)random[i] << (8 * (9 - i));
        return new Ulid(value);
    }

    public long TimestampMs => (long)(ulong)(Value >> 80);

    public override string ToString()
    {
        Span<char> chars = stackalloc char[26];
        for (int i = 25; i >= 0; i--) chars[i] = Alphabet[(int)(ulong)((Value >> (5 * (25 - i))) & 31)];
        return new string(chars);
    }

    public static bool TryParse(string? text, out Ulid ulid)
    {
        ulid = default;
        if (text is null || text.Length != 26) return false;
        UInt128 value = 0;
        foreach (char c in text)
        {
            int digit = Alphabet.IndexOf(char.ToUpperInvariant(c));
            if (digit < 0) return false;
            value = (value << 5) | (uint)digit;
        }
        if (text[0] > '7') return false; // 130 bits would not fit
        ulid = new Ulid(value);
        return true;
    }

    public static Ulid Parse(string text) =>
        TryParse(text, out var u) ? u : throw new FormatException($"'{text}' is not a ULID (26 characters of Crockford base32)");

    public int CompareTo(Ulid other) => Value.CompareTo(other.Value);
}
