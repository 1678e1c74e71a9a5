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
}
