using Amphora.BenchRunner;
using Amphora.Bucket;
using Amphora.Tsdb.Blocks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Compactor.Tests;

/// <summary>
/// The benchmark's replication and compaction scenario (issue 23), built from bucket states instead of a disk run: it reported
/// twice the samples after compaction when the disk run cut two blocks that end on a 12-hour boundary.
/// </summary>
public sealed class ReplicationScenarioTests : IDisposable
{
    private static readonly TimeSpan H = TimeSpan.FromHours(1);
    private readonly string _dir = Directory.CreateTempSubdirectory("amphora-replication-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    /// <summary>
    /// The bucket after Amphora's all-in-one disk run of 4 h ending 84 minutes past a 12-hour boundary W, as in the issue: the
    /// ingester cut [W-2h36m, W-2h) and [W-2h, W) and uploaded them. With <paramref name="compactorActed"/>, the run lasted long
    /// enough for the in-process compactor (its defaults: 30 min consistency delay, 12 h deletion delay) to compact the two into
    /// one 12-hour-window block and mark them.
    /// </summary>
    private async Task<(string BucketDir, long Samples)> DiskRunAsync(bool compactorActed)
    {
        string bucketDir = Path.Combine(_dir, "disk-run-bucket");
        var bucket = new FilesystemBucket(bucketDir);
        long w = (DateTimeOffset.UtcNow - 5 * H).ToUnixTimeMilliseconds() / (long)(12 * H).TotalMilliseconds * (long)(12 * H).TotalMilliseconds;
        long start = w - (long)(2.6 * H.TotalMilliseconds), mid = w - (long)(2 * H).TotalMilliseconds;
        var first = TestBlocks.Data(20, start, mid);
        var second = TestBlocks.Data(20, mid, w);
        await TestBlocks.UploadAsync(bucket, "bench", first, mid - (long)(2 * H).TotalMilliseconds, mid, "ingester-0");
        await TestBlocks.UploadAsync(bucket, "bench", second, mid, w, "ingester-0");
        if (compactorActed)
        {
            var inProcess = new CompactorService(bucket, new CompactorOptions
            {
                Ranges = [2 * H, 12 * H, 24 * H],
                WorkDir = Path.Combine(_dir, "in-process-compactor"),
            }, _ => TimeSpan.FromDays(150), NullLogger<CompactorService>.Instance, new ManualClock(DateTimeOffset.UtcNow + H));
            await inProcess.RunOnceAsync();
            var census = await BucketCensus.TakeAsync(bucket, "bench");
            Assert.Equal(2, census.Marked.Count);
            Assert.Equal(2, Assert.Single(census.Live).Compaction.Level);
        }
        return (bucketDir, first.Values.Sum(s => s.Count) + second.Values.Sum(s => s.Count));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Three_replicas_of_a_disk_run_compact_to_one_copy_of_each_sample(bool compactorActed)
    {
        var (bucketDir, samples) = await DiskRunAsync(compactorActed);

        var figures = await CompactionScenario.RunAsync(bucketDir, Path.Combine(_dir, "scenario"),
            new TickingClock(DateTimeOffset.UtcNow, TimeSpan.FromSeconds(1)));

        Assert.Null(figures.Failure);
        Assert.Equal(samples, figures.Samples);
        Assert.Equal(samples, figures.CompactedSamples);
        Assert.Equal(3.0, figures.ThreeCopies / figures.SingleCopy, 3);
        Assert.InRange(figures.Compacted / figures.SingleCopy, 0.9, 1.1);
        // The disk run's own bucket is measured, not changed.
        Assert.Equal(compactorActed ? 3 : 2, (await TestBlocks.BlocksAsync(new FilesystemBucket(bucketDir), "bench")).Count);
    }

    [Fact]
    public async Task A_disk_run_without_blocks_is_reported_as_a_failure_not_thrown()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "empty-bucket"));
        var figures = await CompactionScenario.RunAsync(Path.Combine(_dir, "empty-bucket"), Path.Combine(_dir, "scenario"));
        Assert.Contains("no ingester block", figures.Failure);
    }
}
