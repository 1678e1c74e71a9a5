using Amphora.Model;
using Amphora.Tsdb.Chunks;
using Xunit;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Tsdb.Tests.Chunks;

public sealed class HistogramChunkTests
{
    internal static Histogram Sample(int i, int schema = 3, double? threshold = null)
    {
        // Counts grow with i; the layout stays the same: positive buckets -1..1 and 4..5, negative bucket 0.
        long a = 2 + i, b = 5 + 3L * i, c = 1 + i / 2, d = i * i, e = 7, n = 3 + i;
        ulong zero = (ulong)(i + 1);
        return new Histogram
        {
            Schema = schema,
            ZeroThreshold = threshold ?? Math.ScaleB(1, -128),
            ZeroCount = zero,
            Count = (ulong)(a + b + c + d + e + n) + zero,
            Sum = 12.5 * i + 0.1,
            PositiveSpans = [new HistogramSpan(-1, 3), new HistogramSpan(2, 2)],
            PositiveBuckets = Histogram.Deltas([a, b, c, d, e]),
            NegativeSpans = [new HistogramSpan(0, 1)],
            NegativeBuckets = [n],
        };
    }

    private static List<(long T, Histogram H)> Decode(HistogramChunk chunk)
    {
        var it = new HistogramIterator(chunk.Snapshot());
        var result = new List<(long, Histogram)>();
        while (it.Next() == ValueType.Histogram) result.Add((it.AtT(), it.AtHistogram()));
        Assert.Null(it.Err);
        return result;
    }

    private static void AssertSame(Histogram expected, Histogram actual)
    {
        var e = new Histogram
        {
            CounterResetHint = actual.CounterResetHint, Schema = expected.Schema, ZeroThreshold = expected.ZeroThreshold,
            ZeroCount = expected.ZeroCount, Count = expected.Count, Sum = expected.Sum, PositiveSpans = expected.PositiveSpans,
            NegativeSpans = expected.NegativeSpans, PositiveBuckets = expected.PositiveBuckets, NegativeBuckets = expected.NegativeBuckets,
            CustomValues = expected.CustomValues,
        };
        Assert.True(e.SameAs(actual), $"expected {e}, got {actual}");
    }

    [Fact]
    public void Integer_histograms_read_back_exactly_with_irregular_timestamps()
    {
        var chunk = new HistogramChunk();
        var written = new List<(long, Histogram)>();
        long t = 1_700_000_000_000;
        for (int i = 0; i < 120; i++)
        {
            t += 15_000 + (i % 7 == 0 ? 1_234 : 0) + (i == 50 ? 300_000 : 0);
            var h = Sample(i);
            chunk.Append(t, h);
            written.Add((t, h));
        }
        var read = Decode(chunk);
        Assert.Equal(written.Count, read.Count);
        for (int i = 0; i < read.Count; i++)
        {
            Assert.Equal(written[i].Item1, read[i].T);
            AssertSame(written[i].Item2, read[i].H);
        }
        Assert.Equal(CounterResetHint.Unknown, read[0].H.CounterResetHint);
        Assert.Equal(CounterResetHint.NotCounterReset, read[1].H.CounterResetHint);
    }

    [Fact]
    public void Large_counts_and_deltas_use_the_wide_varbit_buckets()
    {
        var chunk = new HistogramChunk();
        ulong[] counts = [0, 1, 300, 70_000, 20_000_000, 1UL << 40, (1UL << 62) + 5, 3];
        var written = new List<Histogram>();
        for (int i = 0; i < counts.Length; i++)
        {
            var h = new Histogram { Count = counts[i], ZeroCount = counts[i], Sum = -i, PositiveSpans = [], NegativeSpans = [] };
            chunk.Append(1000L * i - 5000, h);
            written.Add(h);
        }
        var read = Decode(chunk);
        for (int i = 0; i < counts.Length; i++)
        {
            Assert.Equal(1000L * i - 5000, read[i].T);
            AssertSame(written[i], read[i].H);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-128.0)]
    [InlineData(-243.0)]
    [InlineData(-244.0)]
    [InlineData(10.0)]
    [InlineData(11.0)]
    [InlineData(0.001)]
    public void Every_zero_threshold_reads_back(double exponentOrValue)
    {
        // Negative whole numbers and 10, 11 are exponents of two (the one-byte encoding and its edges); others are the value.
        double threshold = exponentOrValue is < 0 or 10 or 11 ? Math.ScaleB(1, (int)exponentOrValue) : exponentOrValue;
        var chunk = new HistogramChunk();
        chunk.Append(1, Sample(0, threshold: threshold));
        chunk.Append(2, Sample(1, threshold: threshold));
        var read = Decode(chunk);
        Assert.Equal(BitConverter.DoubleToInt64Bits(threshold), BitConverter.DoubleToInt64Bits(read[1].H.ZeroThreshold));
    }

    [Fact]
    public void The_default_zero_threshold_is_one_byte_116_after_the_header()
    {
        var chunk = new HistogramChunk();
        chunk.Append(1, Sample(0));
        Assert.Equal(116, chunk.Snapshot()[3]);
        Assert.Equal(new byte[] { 0, 1, 0 }, chunk.Snapshot()[..3]);
    }

    [Fact]
    public void Custom_bucket_bounds_read_back_in_both_encodings()
    {
        double[] bounds = [0.005, 0.1, 1, 2.5, 33554.43, 40000, -1, 0.0001];
        Array.Sort(bounds);
        var h = new Histogram
        {
            Schema = Histogram.CustomBucketsSchema,
            Count = 12,
            Sum = 3.5,
            PositiveSpans = [new HistogramSpan(0, 2), new HistogramSpan(3, 1)],
            PositiveBuckets = [4, -1, 2],
            CustomValues = bounds,
        };
        Assert.Null(h.Validate());
        var chunk = new HistogramChunk();
        chunk.Append(10, h);
        chunk.Append(20, h);
        var read = Decode(chunk);
        Assert.Equal(bounds, read[1].H.CustomValues);
        AssertSame(h, read[1].H);
    }

    [Fact]
    public void A_staleness_marker_carries_no_buckets_and_reads_back_stale()
    {
        var chunk = new HistogramChunk();
        chunk.Append(1000, Sample(0));
        chunk.Append(2000, Sample(1));
        chunk.Append(3000, Histogram.Stale());
        chunk.Append(4000, Histogram.Stale());
        var read = Decode(chunk);
        Assert.Equal(4, read.Count);
        Assert.False(read[1].H.IsStale);
        AssertSame(Sample(1), read[1].H);
        Assert.True(read[2].H.IsStale);
        Assert.True(read[3].H.IsStale);
        Assert.Equal(4000, read[3].T);

        var first = new HistogramChunk();
        first.Append(5, Histogram.Stale());
        Assert.True(Decode(first)[0].H.IsStale);
    }

    [Fact]
    public void A_truncated_chunk_is_an_error_not_garbage()
    {
        var chunk = new HistogramChunk();
        for (int i = 0; i < 10; i++) chunk.Append(i * 1000, Sample(i));
        var bytes = chunk.Snapshot()[..^6];
        var it = new HistogramIterator(bytes);
        int n = 0;
        while (it.Next() == ValueType.Histogram) n++;
        Assert.True(n < 10);
        Assert.NotNull(it.Err);
    }

    [Fact]
    public void Float_histograms_read_back_bit_exactly()
    {
        var layout = HistogramLayout.Of(Sample(0));
        var chunk = new FloatHistogramChunk(CounterResetHint.Gauge);
        var written = new List<(long T, double C, double Z, double S, double[] P, double[] N)>();
        var rng = new Random(3);
        for (int i = 0; i < 100; i++)
        {
            double[] p = [rng.NextDouble() * 10, i, 0.5 * i, 1e300, -0.0];
            double[] n = [i % 3];
            double c = p.Sum() + n.Sum() + 1, z = 1, s = rng.NextDouble() - 0.5;
            long t = 1000L * i + (i % 5);
            chunk.Append(t, layout, c, z, s, p, n);
            written.Add((t, c, z, s, p, n));
        }
        chunk.Append(200_000, layout, 0, 0, StaleNaN.Value, [], []);
        var it = new FloatHistogramIterator(chunk.Snapshot());
        for (int i = 0; i < written.Count; i++)
        {
            Assert.Equal(ValueType.FloatHistogram, it.Next());
            var w = written[i];
            Assert.Equal(w.T, it.AtT());
            Assert.Equal(BitConverter.DoubleToInt64Bits(w.C), BitConverter.DoubleToInt64Bits(it.CountValue));
            Assert.Equal(w.Z, it.ZeroCountValue);
            Assert.Equal(BitConverter.DoubleToInt64Bits(w.S), BitConverter.DoubleToInt64Bits(it.SumValue));
            Assert.Equal(w.P.Select(BitConverter.DoubleToInt64Bits), it.Positive.ToArray().Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal(w.N, it.Negative.ToArray());
            Assert.Equal(CounterResetHint.Gauge, it.Hint);
            Assert.True(layout.SameAs(it.Layout));
        }
        Assert.Equal(ValueType.FloatHistogram, it.Next());
        Assert.True(it.IsStale);
        Assert.Equal(ValueType.None, it.Next());
        Assert.Null(it.Err);
    }
}
