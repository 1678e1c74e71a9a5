using Amphora.Model;
using Amphora.Tsdb.Tests.Wal;
using Amphora.Tsdb.Wal;

namespace Amphora.Tsdb.Tests.Head;

/// <summary>The head and the WAL together: logging a new series waits for no other request's fsync.</summary>
public sealed class HeadWalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("amphora-headwal-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public async Task A_new_series_is_logged_and_found_while_another_requests_fsync_hangs_and_is_durable_only_after_its_own()
    {
        using var disk = new SlowDisk();
        using var wal = new GroupCommitWal(disk.Writer(_dir), FsyncPolicy.Always);
        var head = new Tsdb.Head(7_200_000);
        var other = wal.CommitAsync(wal.Append(WalRecordType.Samples, WalRecords.EncodeSamples("ws", [new WalSample(99, 1_000, 1)])));
        await disk.WaitUntilSyncingAsync();

        var labels = Labels.FromStrings("__name__", "up", "instance", "a");
        long logged = 0;
        var series = await Task.Run(() => head.GetOrCreate(labels, () => 7,
                s => logged = wal.Append(WalRecordType.Series, WalRecords.EncodeSeries(new WalSeries("ws", s.Ref, s.Labels))), out _))
            .WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Same(series, head.Find(labels));
        lock (series.Lock) series.Unpin();

        var own = wal.CommitAsync(logged);
        Assert.False(own.IsCompleted); // its record is not covered by the fsync that hangs
        disk.Release();
        await Task.WhenAll(other, own);

        var types = new List<WalRecordType>();
        WalReader.Replay(_dir, (type, _) => types.Add(type));
        Assert.Equal([WalRecordType.Samples, WalRecordType.Series], types);
    }
}
