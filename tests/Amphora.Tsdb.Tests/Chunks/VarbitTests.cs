using Amphora.Tsdb.Chunks;
using Xunit;

namespace Amphora.Tsdb.Tests.Chunks;

public sealed class VarbitTests
{
    [Fact]
    public void Signed_and_unsigned_values_read_back_at_every_bucket_edge()
    {
        long[] signed = [0, 1, -1, 4, -3, 5, -4, 32, -31, 33, 256, -255, 257, 2048, -2047, 2049, 131072, -131071, 131073,
            16777216, -16777215, 16777217, 36028797018963968, -36028797018963967, 36028797018963969, long.MaxValue, long.MinValue];
        ulong[] unsigned = [0, 1, 7, 8, 63, 64, 511, 512, 4095, 4096, 262143, 262144, 33554431, 33554432, (1UL << 56) - 1, 1UL << 56, ulong.MaxValue];
        var w = new BitWriter(new byte[8], 0);
        foreach (long v in signed) w.WriteVarbitInt(v);
        foreach (ulong v in unsigned) w.WriteVarbitUint(v);
        var r = new BitCursor();
        r.Reset(w.Buffer, w.Length, 0);
        foreach (long v in signed) Assert.Equal(v, r.ReadVarbitInt());
        foreach (ulong v in unsigned) Assert.Equal(v, r.ReadVarbitUint());
    }

    [Fact]
    public void The_bucket_widths_are_Prometheus_ones()
    {
        // 4 is in the 3-bit bucket ("10" + 100), 5 is not ("110" + 000101); 0 is a single zero bit.
        var w = new BitWriter(new byte[8], 0);
        w.WriteVarbitInt(4);
        w.WriteVarbitInt(5);
        w.WriteVarbitInt(0);
        // 10100 110000101 0 -> 1010 0110 0001 010(0)
        Assert.Equal(new byte[] { 0b1010_0110, 0b0001_0100 }, w.Buffer[..w.Length]);
    }
}
