using Amphora.Model;
using Amphora.Tsdb.Tests.Chunks;
using Amphora.Tsdb.Wal;
using Xunit;

namespace Amphora.Tsdb.Tests.Wal;

public sealed class WalHistogramRecordsTests
{
    [Fact]
    public void Histogram_samples_round_trip_every_field_and_a_truncated_record_is_an_error()
    {
        var custom = new Histogram
        {
            CounterResetHint = CounterResetHint.Gauge, Schema = Histogram.CustomBucketsSchema, Count = 3, Sum = double.NaN,
            PositiveSpans = [new HistogramSpan(1, 2)], PositiveBuckets = [1, 1], CustomValues = [0.5, 1, 10],
        };
        WalHistogramSample[] samples = [new(7, -5, HistogramChunkTests.Sample(3)), new(ulong.MaxValue, long.MaxValue, custom), new(8, 0, Histogram.Stale())];
        var payload = WalHistogramRecords.Encode("ws-ä", samples);
        var (ws, decoded) = WalHistogramRecords.Decode(payload);
        Assert.Equal("ws-ä", ws);
        Assert.Equal(samples.Length, decoded.Length);
        for (int i = 0; i < samples.Length; i++)
        {
            Assert.Equal(samples[i].Ref, decoded[i].Ref);
            Assert.Equal(samples[i].T, decoded[i].T);
            Assert.True(samples[i].H.SameAs(decoded[i].H), $"{samples[i].H} != {decoded[i].H}");
        }
        // One byte short: the last field cannot be read.
        Assert.ThrowsAny<Exception>(() => WalHistogramRecords.Decode(payload.AsSpan(0, payload.Length - 1)));
    }

    [Fact]
    public void A_record_claiming_more_items_than_it_holds_is_refused_before_allocating()
    {
        var payload = WalHistogramRecords.Encode("ws", [new(1, 1, HistogramChunkTests.Sample(1))]);
        payload[4 + 2] = 0xff; // the sample count's low byte, after the 4-byte length and "ws"
        payload[4 + 2 + 3] = 0x7f;
        Assert.Throws<InvalidDataException>(() => WalHistogramRecords.Decode(payload));
    }

    [Fact]
    public void Float_histogram_samples_round_trip_every_field()
    {
        var f = new FloatHistogram
        {
            CounterResetHint = CounterResetHint.CounterReset, Schema = -2, ZeroThreshold = 0.5, ZeroCount = 1.25, Count = 9.5, Sum = -3,
            PositiveSpans = [new HistogramSpan(-1, 2)], PositiveBuckets = [1.5, 2], NegativeSpans = [new HistogramSpan(3, 1)], NegativeBuckets = [4.75],
        };
        var payload = WalHistogramRecords.EncodeFloat("ws", [new(3, 99, f), new(4, 100, new FloatHistogram { Sum = StaleNaN.Value })]);
        var (ws, decoded) = WalHistogramRecords.DecodeFloat(payload);
        Assert.Equal("ws", ws);
        Assert.True(f.IdenticalTo(decoded[0].H) && f.CounterResetHint == decoded[0].H.CounterResetHint, decoded[0].H.ToString());
        Assert.Equal(99, decoded[0].T);
        Assert.True(StaleNaN.Is(decoded[1].H.Sum));
        Assert.ThrowsAny<Exception>(() => WalHistogramRecords.DecodeFloat(payload.AsSpan(0, payload.Length - 1)));
    }
}
