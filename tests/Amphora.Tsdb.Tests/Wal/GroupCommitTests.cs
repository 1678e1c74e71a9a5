using Amphora.Tsdb.Wal;

namespace Amphora.Tsdb.Tests.Wal;

public sealed class GroupCommitTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "amphora-gc-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public async Task Commits_waiting_for_a_slow_fsync_share_the_next_one_and_all_return_durable()
    {
        using var wal = new GroupCommitWal(new WalWriter(_dir), FsyncPolicy.Always) { BeforeSync = () => Thread.Sleep(30) };
        // 32 requests have written their records and now wait for durability at the same time.
        var sequences = Enumerable.Range(0, 32).Select(i => wal.Append(WalRecordType.Samples, [(byte)i, 1, 2, 3])).ToArray();
        await Task.WhenAll(sequences.Select(seq => wal.CommitAsync(seq)));
        Assert.Equal(32, wal.Commits);
        Assert.Equal(1, wal.Fsyncs); // one sync covers every record appended before it starts

        int replayed = 0;
        WalReader.Replay(_dir, (_, _) => replayed++);
        Assert.Equal(32, replayed);
    }

    [Fact]
    public async Task A_commit_returns_only_after_an_fsync_that_covers_its_record()
    {
        using var wal = new GroupCommitWal(new WalWriter(_dir), FsyncPolicy.Always);
        long first = wal.Append(WalRecordType.Samples, [1]);
        await wal.CommitAsync(first);
        long fsyncsAfterFirst = wal.Fsyncs;
        Assert.True(fsyncsAfterFirst >= 1);
        long second = wal.Append(WalRecordType.Samples, [2]);
        await wal.CommitAsync(second);
        Assert.True(wal.Fsyncs > fsyncsAfterFirst, "the second commit returned without an fsync of its own record");
    }

    [Fact]
    public async Task Appends_go_on_during_a_slow_fsync_and_the_commits_behind_it_share_the_next_one()
    {
        using var disk = new SlowDisk();
        using var wal = new GroupCommitWal(disk.Writer(_dir), FsyncPolicy.Always);
        var firstCommit = wal.CommitAsync(wal.Append(WalRecordType.Samples, [0]));
        await disk.WaitUntilSyncingAsync();

        // While that fsync hangs, eight other requests write their records (40 KB each, more than the 64 KiB buffer holds):
        // none of them waits for the disk, and they collect in memory instead of going into the file being flushed.
        string segment = WalSegments.PathOf(_dir, 0);
        long lengthDuringSync = new FileInfo(segment).Length;
        long[] sequences = await Task.Run(() => Enumerable.Range(1, 8).Select(i => wal.Append(WalRecordType.Samples, new byte[40_000])).ToArray())
            .WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(lengthDuringSync, new FileInfo(segment).Length);
        var commits = sequences.Select(wal.CommitAsync).ToArray();

        // Nobody is acknowledged before an fsync covering its record has ended.
        Assert.False(firstCommit.IsCompleted);
        Assert.DoesNotContain(commits, c => c.IsCompleted);
        disk.Release();
        await firstCommit;
        await Task.WhenAll(commits);
        Assert.Equal(2, wal.Fsyncs); // the eight written during the first fsync are acknowledged by the second one together
        Assert.Equal(9, wal.Commits);

        int replayed = 0;
        WalReader.Replay(_dir, (_, _) => replayed++);
        Assert.Equal(9, replayed);
    }

    [Fact]
    public void A_sync_makes_every_segment_rotated_since_the_last_one_durable_and_reports_how_far()
    {
        var synced = new List<string>();
        using (var writer = new WalWriter(_dir, segmentSize: 100)
        {
            FlushToDisk = handle =>
            {
                lock (synced) synced.Add(handle.IsClosed ? "closed" : "open");
                RandomAccess.FlushToDisk(handle);
            },
        })
        {
            for (int i = 0; i < 10; i++) writer.Append(WalRecordType.Samples, new byte[40]); // two records fit a segment
            Assert.Equal(10, writer.Sync());
            // Segments 0-3, rotated out by the appends (in the background or by this sync), and the current one.
            Assert.True(synced.Count >= 5, $"{synced.Count} fsyncs for five segments");
            int count = synced.Count;
            Assert.Equal(10, writer.Sync()); // nothing new: no fsync
            Assert.Equal(count, synced.Count);
            writer.Append(WalRecordType.Samples, [1]); // segment 4 is full: into segment 5
            Assert.Equal(5, writer.Rotate()); // the checkpoint's rotation syncs the closed segment before returning
            Assert.Equal(11, writer.Sync());
        }
        Assert.DoesNotContain("closed", synced);
        int replayed = 0;
        WalReader.Replay(_dir, (_, _) => replayed++);
        Assert.Equal(11, replayed);
    }

    [Fact]
    public async Task A_segment_rotated_out_by_appends_is_fsynced_without_waiting_for_a_commit()
    {
        int fsyncs = 0;
        using var writer = new WalWriter(_dir, segmentSize: 100)
        {
            FlushToDisk = handle =>
            {
                Interlocked.Increment(ref fsyncs);
                RandomAccess.FlushToDisk(handle);
            },
        };
        writer.Append(WalRecordType.Samples, new byte[80]);
        writer.Append(WalRecordType.Samples, new byte[80]); // into segment 1: segment 0 is closed
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Volatile.Read(ref fsyncs) < 2 && DateTime.UtcNow < deadline) await Task.Delay(10); // segment 0 and the current one
        Assert.True(Volatile.Read(ref fsyncs) >= 2, "the closed segment was not fsynced in the background");
    }

    [Fact]
    public async Task After_a_failed_fsync_no_commit_is_acknowledged_again()
    {
        bool failing = true;
        var writer = new WalWriter(_dir) { FlushToDisk = _ => { if (failing) throw new IOException("injected fsync failure"); } };
        using var wal = new GroupCommitWal(writer, FsyncPolicy.Always);
        await Assert.ThrowsAsync<IOException>(() => wal.CommitAsync(wal.Append(WalRecordType.Samples, [1])));
        // The disk works again, but what the failed fsync lost cannot be told any more: later commits fail too.
        failing = false;
        var e = await Assert.ThrowsAsync<IOException>(() => wal.CommitAsync(wal.Append(WalRecordType.Samples, [2])));
        Assert.Contains("an earlier fsync of the WAL", e.Message);
        Assert.Equal(0, wal.Fsyncs);
    }
}
