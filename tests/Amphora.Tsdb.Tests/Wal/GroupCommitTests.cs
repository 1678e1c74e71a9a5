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
}
