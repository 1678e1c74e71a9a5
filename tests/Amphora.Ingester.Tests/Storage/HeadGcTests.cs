using Amphora.Ingester;
using Amphora.Ingester.Storage;
using Amphora.Model;
using Amphora.Storage;
using Amphora.Tenancy.Limits;
using Amphora.Tsdb.Tests.Blocks;
using Amphora.Tsdb.Wal;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Ingester.Tests.Storage;

/// <summary>Series that stop being written leave the head after the next cut, and nothing acknowledged goes with them.</summary>
public sealed class HeadGcTests : IDisposable
{
    private const long Range = 600_000; // 10-minute blocks
    private const long Start = 1_700_000_400_000; // a multiple of the range
    private readonly string _dir = Directory.CreateTempSubdirectory("amphora-headgc-").FullName;
    private readonly SeriesLimiter _limiter = new(new Overrides(), _ => null);

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private Task<TsdbStorage> OpenAsync(FsyncPolicy fsync = FsyncPolicy.Always) => TsdbStorage.OpenAsync(Path.Combine(_dir, "data"), new TsdbOptions
    {
        BlockRange = TimeSpan.FromMilliseconds(Range),
        CutInterval = TimeSpan.Zero,
        Fsync = fsync,
        WalSegmentSize = 64 << 10,
    }, NullLogger.Instance, new WorkspaceSeriesLimits(_limiter));

    private static Labels Series(string job, int i) => Labels.FromStrings("__name__", "up", "instance", "i" + i, "job", job);

    /// <summary>Ten series of each job, a sample every 30 s in [from, to), one request per timestamp.</summary>
    private static async Task WriteAsync(TsdbStorage storage, long from, long to, params string[] jobs)
    {
        for (long t = from; t < to; t += 30_000)
        {
            var appender = storage.Appender("ws");
            foreach (var job in jobs)
                for (int i = 0; i < 10; i++)
                {
                    ulong r = 0;
                    Assert.Equal(AppendStatus.Ok, appender.Append(ref r, Series(job, i), t, t / 30_000 % 101 + i));
                }
            await appender.CommitAsync();
        }
    }

    private static List<(long T, double V)> Expected(int i, params (long From, long To)[] ranges) =>
        ranges.SelectMany(r => Enumerable.Range(0, (int)((r.To - r.From) / 30_000)).Select(k => r.From + k * 30_000L))
            .Select(t => (t, (double)(t / 30_000 % 101 + i))).ToList();

    private static async Task<Dictionary<Labels, List<(long T, double V)>>> ReadAsync(TsdbStorage storage)
    {
        using var q = storage.ForWorkspace("ws").Querier(long.MinValue, long.MaxValue);
        var set = await q.SelectAsync(true, null, [LabelMatcher.Create(MatchType.Equal, "__name__", "up")]);
        var result = new Dictionary<Labels, List<(long, double)>>();
        while (set.Next()) result[set.At().Labels] = BlockTestData.Samples(set.At().Iterator());
        Assert.Null(set.Err);
        return result;
    }

    /// <summary>The Series records of the newest WAL checkpoint, by labels.</summary>
    private List<Labels> CheckpointedSeries()
    {
        var checkpoint = WalCheckpoint.Latest(Path.Combine(_dir, "data", "wal"));
        Assert.NotNull(checkpoint);
        var series = new List<Labels>();
        WalReader.Replay(checkpoint.Value.Dir, (type, payload) =>
        {
            if (type == WalRecordType.Series) series.Add(WalRecords.DecodeSeries(payload).Labels);
        });
        return series;
    }

    [Fact]
    public async Task Series_that_stop_receiving_samples_leave_the_head_its_postings_and_the_limit_count_at_the_next_cut()
    {
        using var storage = await OpenAsync();
        await WriteAsync(storage, Start, Start + Range, "old", "kept");
        await WriteAsync(storage, Start + Range, Start + Range + Range / 2 + 30_000, "kept");
        var head = storage.HeadFor("ws");
        Assert.Equal(20, storage.ActiveSeries("ws"));
        Assert.Equal(20, _limiter.ActiveSeries("ws"));
        Assert.Equal(["kept", "old"], head.IndexedLabelValues("job"));

        Assert.Equal(1, await storage.CutBlocksAsync());

        // No restart: the ten "old" series are gone from the head, its postings and label values, and the limit's count.
        Assert.Equal(10, storage.ActiveSeries("ws"));
        Assert.Equal(10, head.SeriesCount);
        Assert.Equal(10, _limiter.ActiveSeries("ws"));
        Assert.Null(head.Find(Series("old", 3)));
        Assert.Equal(["kept"], head.IndexedLabelValues("job"));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => "i" + i).Order(StringComparer.Ordinal), head.IndexedLabelValues("instance"));
        Assert.Empty(head.Select([LabelMatcher.Create(MatchType.Equal, "job", "old")]));
        // ... and from the WAL checkpoint the cut wrote.
        Assert.Equal(10, CheckpointedSeries().Count);
        Assert.DoesNotContain(CheckpointedSeries(), l => l.Get("job") == "old");

        // Their data is in the block: queries still answer for the whole time.
        var all = await ReadAsync(storage);
        Assert.Equal(20, all.Count);
        BlockTestData.AssertSameSamples(Expected(4, (Start, Start + Range)), all[Series("old", 4)], "old 4");
    }

    [Fact]
    public async Task A_series_that_resumes_is_created_again_and_answers_over_the_block_and_the_head_also_after_a_restart()
    {
        const long resumeFrom = Start + Range + Range / 2 + 30_000, resumeTo = resumeFrom + 5 * 60_000;
        ulong removedRef;
        using (var storage = await OpenAsync())
        {
            await WriteAsync(storage, Start, Start + Range, "old", "kept");
            removedRef = storage.HeadFor("ws").Find(Series("old", 4))!.Ref;
            await WriteAsync(storage, Start + Range, resumeFrom, "kept");
            Assert.Equal(1, await storage.CutBlocksAsync());
            Assert.Equal(10, _limiter.ActiveSeries("ws"));

            await WriteAsync(storage, resumeFrom, resumeTo, "old", "kept");
            var resumed = storage.HeadFor("ws").Find(Series("old", 4));
            Assert.NotNull(resumed);
            Assert.NotEqual(removedRef, resumed.Ref); // references are never reused
            Assert.Equal(20, storage.ActiveSeries("ws"));
            Assert.Equal(20, _limiter.ActiveSeries("ws"));
            var read = await ReadAsync(storage);
            BlockTestData.AssertSameSamples(Expected(4, (Start, Start + Range), (resumeFrom, resumeTo)), read[Series("old", 4)], "old 4");
            BlockTestData.AssertSameSamples(Expected(4, (Start, resumeTo)), read[Series("kept", 4)], "kept 4");
        }

        // The checkpoint left the removed series out; the later segments bring the resumed one back with its new samples.
        using (var storage = await OpenAsync())
        {
            Assert.Equal(20, storage.ActiveSeries("ws"));
            var read = await ReadAsync(storage);
            Assert.Equal(20, read.Count);
            BlockTestData.AssertSameSamples(Expected(4, (Start, Start + Range), (resumeFrom, resumeTo)), read[Series("old", 4)], "old 4");
            BlockTestData.AssertSameSamples(Expected(7, (Start, resumeTo)), read[Series("kept", 7)], "kept 7");
            Assert.Null(storage.HeadFor("ws").Find(removedRef));
        }
    }

    [Fact]
    public async Task ACutRoundCompactsTheHeapAtMostOncePerInterval()
    {
        using var storage = await OpenAsync();
        await WriteAsync(storage, Start, Start + 2 * Range, "a");
        long before = System.Diagnostics.Stopwatch.GetTimestamp();
        Assert.True(await storage.CutBlocksAsync() > 0);
        // This round compacted, or another storage of the test process did within the interval (one compaction serves all).
        long last = Assert.NotNull(HeapCompaction.LastStarted);
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(last, before) < HeapCompaction.MinInterval);
        Assert.False(HeapCompaction.AfterCut());
        Assert.True(HeapCompaction.Due(long.MinValue, before));
        long interval = (long)(HeapCompaction.MinInterval.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        Assert.False(HeapCompaction.Due(before, before + interval - 1));
        Assert.True(HeapCompaction.Due(before, before + interval));
    }
}
