using Amphora.Model;
using Amphora.Tsdb.Chunks;
using Xunit;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Tsdb.Tests.Chunks;

public sealed class XorChunkTests
{
    private static List<(long T, double V)> Decode(byte[] bytes)
    {
        var it = new XorIterator(bytes);
        var result = new List<(long, double)>();
        while (it.Next() == ValueType.Float) result.Add(it.At());
        Assert.Null(it.Err);
        return result;
    }

    private static void AssertBitExact(IReadOnlyList<(long T, double V)> expected, IReadOnlyList<(long T, double V)> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].T, actual[i].T);
            Assert.Equal(BitConverter.DoubleToUInt64Bits(expected[i].V), BitConverter.DoubleToUInt64Bits(actual[i].V));
        }
    }

    [Fact]
    public void A_chunk_has_the_bytes_the_format_prescribes()
    {
        // 2-byte count; varint(1000) = zigzag 2000 = D0 0F; 1.0 as 64 bits; uvarint delta 1000 = E8 07; then bits:
        // 0 (same value), 0 (delta of delta 0), 11 + leading 00001 + 6-bit length 001011 + 11 bits of 2.0 ^ 1.0 (all ones).
        var chunk = new XorChunk();
        chunk.Append(1000, 1.0);
        chunk.Append(2000, 1.0);
        chunk.Append(3000, 2.0);
        byte[] expected = [0x00, 0x03, 0xD0, 0x0F, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0, 0xE8, 0x07, 0x30, 0x97, 0xFF, 0xC0];
        Assert.Equal(expected, chunk.Snapshot());
        AssertBitExact([(1000, 1.0), (2000, 1.0), (3000, 2.0)], Decode(expected));
    }

    [Fact]
    public void Realistic_series_round_trip_bit_exactly()
    {
        var cases = new Dictionary<string, List<(long, double)>>
        {
            ["counter"] = Enumerable.Range(0, 120).Select(i => (1_700_000_000_000L + i * 15_000L, i * 37.5)).ToList(),
            ["gauge"] = Enumerable.Range(0, 120).Select(i => (1_700_000_000_000L + i * 15_000L + (i % 3) * 7, Math.Sin(i) * 1e6)).ToList(),
            ["constant"] = Enumerable.Range(0, 120).Select(i => (i * 1000L, 42.0)).ToList(),
            ["special"] = [(0, double.NaN), (1, double.PositiveInfinity), (2, double.NegativeInfinity), (3, StaleNaN.Value), (4, -0.0),
                (5, double.Epsilon), (6, double.MaxValue), (7, StaleNaN.Value), (1_000_000_000, 1)],
            ["negative times and big jumps"] = [(-5_000, 1), (-4_000, 2), (10_000_000_000, 3), (10_000_000_001, 4), (10_000_000_002, 4)],
        };
        foreach (var (name, samples) in cases)
        {
            var chunk = new XorChunk();
            foreach (var (t, v) in samples) chunk.Append(t, v);
            Assert.Equal(samples.Count, chunk.Count);
            AssertBitExact(samples, Decode(chunk.Snapshot()));
        }
    }

    [Fact]
    public void Random_series_round_trip_bit_exactly()
    {
        var random = new Random(20261122);
        for (int round = 0; round < 2_000; round++)
        {
            int n = 1 + random.Next(120);
            long t = random.NextInt64(-1_000_000_000_000, 1_000_000_000_000);
            var samples = new List<(long, double)>(n);
            for (int i = 0; i < n; i++)
            {
                t += random.Next(4) switch { 0 => 15_000, 1 => random.Next(1, 100), 2 => random.NextInt64(1, 1L << 40), _ => random.Next(1, 1 << 20) };
                double v = random.Next(5) switch
                {
                    0 => BitConverter.Int64BitsToDouble(random.NextInt64()),
                    1 => Math.Round(random.NextDouble() * 1000),
                    2 => samples.Count > 0 ? samples[^1].Item2 : 0,
                    3 => random.NextDouble(),
                    _ => StaleNaN.Value,
                };
                samples.Add((t, v));
            }
            var chunk = new XorChunk();
            foreach (var (st, sv) in samples) chunk.Append(st, sv);
            AssertBitExact(samples, Decode(chunk.Snapshot()));
        }
    }

    [Fact]
    public void Seek_finds_the_first_sample_at_or_after_a_time_and_never_goes_back()
    {
        var chunk = new XorChunk();
        for (int i = 0; i < 10; i++) chunk.Append(i * 10, i);
        var it = new XorIterator(chunk.Snapshot());
        Assert.Equal(ValueType.Float, it.Seek(35));
        Assert.Equal(40, it.AtT());
        Assert.Equal(ValueType.Float, it.Seek(5));
        Assert.Equal(40, it.AtT());
        Assert.Equal(ValueType.None, it.Seek(1000));
        Assert.Equal(ValueType.None, it.Seek(0));
    }

    [Fact]
    public void A_truncated_chunk_is_an_error_not_garbage()
    {
        var chunk = new XorChunk();
        for (int i = 0; i < 50; i++) chunk.Append(i * 1000, i * 1.5);
        var bytes = chunk.Snapshot();
        var it = new XorIterator(bytes, bytes.Length / 2);
        int read = 0;
        while (it.Next() == ValueType.Float) read++;
        Assert.True(read < 50);
        Assert.NotNull(it.Err);
    }
}
