using Amphora.Model;
using Amphora.Tsdb.Wal;

namespace Amphora.Tsdb.Tests.Wal;

public sealed class WalRecordsTests
{
    [Fact]
    public void A_series_record_round_trips_workspace_ref_and_labels()
    {
        var series = new WalSeries("ws-é1", 42, Labels.FromStrings("__name__", "up", "job", "node"));
        var back = WalRecords.DecodeSeries(WalRecords.EncodeSeries(series));
        Assert.Equal("ws-é1", back.Workspace);
        Assert.Equal(42UL, back.Ref);
        Assert.Equal(series.Labels, back.Labels);
    }

    [Fact]
    public void A_samples_record_round_trips_every_sample_bit_for_bit()
    {
        var samples = new[] { new WalSample(1, -5, double.NaN), new WalSample(2, long.MaxValue, 1.5) };
        var (ws, back) = WalRecords.DecodeSamples(WalRecords.EncodeSamples("ws", samples));
        Assert.Equal("ws", ws);
        Assert.Equal(samples.Length, back.Length);
        Assert.Equal(BitConverter.DoubleToInt64Bits(double.NaN), BitConverter.DoubleToInt64Bits(back[0].V));
        Assert.Equal(samples[1], back[1]);
        Assert.Equal(-5, back[0].T);
    }

    [Fact]
    public void An_exemplars_record_round_trips_refs_times_values_and_labels_and_a_count_past_its_end_is_refused()
    {
        var exemplars = new[]
        {
            new WalExemplar(7, new Exemplar(Labels.FromStrings("span_id", "00f0", "trace_id", "ab12é"), -0.25, 1_700_000_000_123)),
            new WalExemplar(8, new Exemplar(Labels.Empty, double.NaN, -1)),
        };
        var payload = WalRecords.EncodeExemplars("ws", exemplars);
        var (ws, back) = WalRecords.DecodeExemplars(payload);
        Assert.Equal("ws", ws);
        Assert.Equal(exemplars[0], back[0]);
        Assert.Equal((8UL, -1L, 0), (back[1].Ref, back[1].Exemplar.T, back[1].Exemplar.Labels.Count));
        Assert.Equal(BitConverter.DoubleToInt64Bits(double.NaN), BitConverter.DoubleToInt64Bits(back[1].Exemplar.Value));

        var overstated = payload.ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(overstated.AsSpan(4 + 2), 1_000_000); // the exemplar count
        Assert.Throws<InvalidDataException>(() => WalRecords.DecodeExemplars(overstated));
    }
}
