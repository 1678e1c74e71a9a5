using Amphora.Tsdb.Wal;

namespace Amphora.Tsdb.Tests.Wal;

public sealed class WalReaderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "amphora-wal-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static byte[] PayloadOf(int i) => BitConverter.GetBytes(i).Concat(new byte[i % 37]).ToArray();

    private void WriteRecords(int count, long segmentSize)
    {
        using var w = new WalWriter(_dir, segmentSize);
        for (int i = 0; i < count; i++) w.Append(WalRecordType.Samples, PayloadOf(i));
        w.Sync();
    }

    private List<int> ReplayIds(bool repair = false)
    {
        var ids = new List<int>();
        WalReader.Replay(_dir, (t, p) => ids.Add(BitConverter.ToInt32(p)), repair);
        return ids;
    }

    [Fact]
    public void Records_written_across_segments_replay_in_order()
    {
        WriteRecords(500, 1024);
        Assert.True(WalSegments.List(_dir).Count > 3);
        Assert.Equal(Enumerable.Range(0, 500), ReplayIds());
    }

    [Fact]
    public void A_torn_tail_at_any_offset_keeps_every_record_before_the_cut()
    {
        var rng = new Random(7);
        for (int round = 0; round < 20; round++)
        {
            if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
            WriteRecords(100, 1 << 20);
            var path = WalSegments.PathOf(_dir, 0);
            var full = File.ReadAllBytes(path);
            int cut = rng.Next(1, full.Length);
            File.WriteAllBytes(path, full[..cut]);
            var ids = ReplayIds();
            Assert.Equal(Enumerable.Range(0, ids.Count), ids);
            int expected = 0; long end = 0;
            while (true) { long next = end + WalFraming.HeaderSize + PayloadOf(expected).Length; if (next > cut) break; end = next; expected++; if (expected == 100) break; }
            Assert.Equal(expected, ids.Count);
            Assert.Equal(end, new FileInfo(path).Length);
        }
    }

    [Fact]
    public void Corruption_in_a_middle_segment_names_segment_and_offset_unless_repair_is_set()
    {
        WriteRecords(300, 1024);
        var path = WalSegments.PathOf(_dir, 1);
        var bytes = File.ReadAllBytes(path);
        bytes[WalFraming.HeaderSize + 1] ^= 0xFF;
        File.WriteAllBytes(path, bytes);

        var ex = Assert.Throws<WalCorruptionException>(() => ReplayIds());
        Assert.Equal(1, ex.Segment);
        Assert.Equal(0, ex.Offset);
        Assert.Contains("segment 00000001 at offset 0", ex.Message);

        var repaired = ReplayIds(repair: true);
        Assert.Equal(Enumerable.Range(0, repaired.Count), repaired);
        Assert.Equal(new[] { 0, 1 }, WalSegments.List(_dir));
        Assert.Equal(0, new FileInfo(path).Length);
    }
}
