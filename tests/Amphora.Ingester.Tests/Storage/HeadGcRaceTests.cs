using Amphora.Ingester;
using Amphora.Ingester.Storage;
using Amphora.Model;
using Amphora.Storage;
using Amphora.Tenancy.Limits;
using Amphora.Tsdb.Tests.Blocks;
using Amphora.Tsdb.Wal;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Ingester.Tests.Storage;

/// <summary>Appenders and the head GC at the same time: what an appender found or created is still the head's when it commits.</summary>
public sealed class HeadGcRaceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("amphora-gcrace-").FullName;
    private readonly SeriesLimiter _limiter = new(new Overrides(), _ => null);

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private Task<TsdbStorage> OpenAsync() => TsdbStorage.OpenAsync(Path.Combine(_dir, "data"), new TsdbOptions
    {
        CutInterval = TimeSpan.Zero,
        // Four steps of a writer per block range: in-order chunks never cross a range boundary, so a series that gets a sample
        // every six steps holds one sample per chunk and goes empty when that chunk is truncated.
        BlockRange = TimeSpan.FromSeconds(4),
        Fsync = FsyncPolicy.Never,
        WalSegmentSize = 256 << 10,
    }, NullLogger.Instance, new WorkspaceSeriesLimits(_limiter));

    private static async Task<Dictionary<Labels, List<(long T, double V)>>> ReadAsync(TsdbStorage storage, long minT, long maxT, params LabelMatcher[] matchers)
    {
        using var q = storage.ForWorkspace("ws").Querier(minT, maxT);
        var set = await q.SelectAsync(true, null, matchers);
        var result = new Dictionary<Labels, List<(long, double)>>();
        while (set.Next()) result[set.At().Labels] = BlockTestData.Samples(set.At().Iterator());
        Assert.Null(set.Err);
        return result;
    }

    [Fact]
    public async Task Appenders_racing_the_head_gc_lose_no_acknowledged_sample_and_the_limit_count_follows_the_head()
    {
        const int writers = 4, iterations = 2_500, pool = 6;
        var storage = await OpenAsync();
        var head = storage.HeadFor("ws");
        var step = new long[writers];
        long removed = 0, gcPasses = 0;
        using var stop = new CancellationTokenSource();
        long Slowest()
        {
            long slowest = long.MaxValue;
            for (int w = 0; w < writers; w++) slowest = Math.Min(slowest, Volatile.Read(ref step[w]));
            return slowest;
        }

        // The GC side: drop what every writer has passed (two steps back), as a cut would, and collect the emptied series. A
        // writer's series gets a sample every `pool` steps (one sample per chunk, see Open), so it goes empty and is removed in
        // between, often while its writer has just found it.
        var gc = Task.Factory.StartNew(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                head.TruncateBefore((Slowest() - 2) * 1000);
                removed += storage.CollectGarbage("ws", head);
                Interlocked.Increment(ref gcPasses);
                Thread.Yield();
            }
        }, TaskCreationOptions.LongRunning);

        // Writers in pairs share their series (so two requests create the same series at once), one request per step.
        async Task WriteAsync(int w)
        {
            await Task.Yield();
            try
            {
                await StepsAsync(w);
            }
            finally
            {
                Volatile.Write(ref step[w], iterations); // done (or failed): no longer holds the others back
            }
        }

        async Task StepsAsync(int w)
        {
            long passesSeen = 0;
            for (int i = 0; i < iterations; i++)
            {
                // Keep within a step of the slowest writer, so the head's newest sample never makes the others too old.
                while (Slowest() < i - 1) await Task.Yield();
                // And let the GC pass at least once per round of the pool, however fast appends are, so it does remove series.
                if (i % pool == 0)
                {
                    while (Interlocked.Read(ref gcPasses) == passesSeen) await Task.Yield();
                    passesSeen = Interlocked.Read(ref gcPasses);
                }
                Volatile.Write(ref step[w], i);
                var labels = Labels.FromStrings("__name__", "churn", "pair", (w / 2).ToString(), "slot", (i % pool).ToString());
                long t = i * 1000L;
                var appender = storage.Appender("ws");
                ulong r = 0;
                var status = appender.Append(ref r, labels, t, i);
                await appender.CommitAsync();
                Assert.Equal(AppendStatus.Ok, status); // within a step of the others: never too old

                // Acknowledged: the head holds it now (nothing can drop it before this writer moves on two steps).
                var read = await ReadAsync(storage, t, t, LabelMatcher.Create(MatchType.Equal, "pair", (w / 2).ToString()),
                    LabelMatcher.Create(MatchType.Equal, "slot", (i % pool).ToString()));
                Assert.True(read.TryGetValue(labels, out var samples) && samples.Contains((t, (double)i)), $"writer {w} lost its acknowledged sample at step {i}");
            }
        }

        try
        {
            await Task.WhenAll(Enumerable.Range(0, writers).Select(WriteAsync));
        }
        finally
        {
            stop.Cancel();
            await gc;
        }
        Assert.True(removed > 100, $"the GC removed only {removed} series: the race was not exercised");

        // Quiet now: the series limit counts exactly the series the head holds.
        storage.CollectGarbage("ws", head);
        Assert.Equal(head.AllLabels().Count(), head.SeriesCount);
        Assert.Equal(head.SeriesCount, _limiter.ActiveSeries("ws"));

        // A checkpoint after all that churn (removed series, recreated ones, references logged by racing creators) and a
        // restart keep every sample the head held.
        var before = await ReadAsync(storage, long.MinValue, long.MaxValue, LabelMatcher.Create(MatchType.Equal, "__name__", "churn"));
        Assert.NotEmpty(before);
        storage.Checkpoint();
        storage.Dispose();
        using var reopened = await OpenAsync();
        var after = await ReadAsync(reopened, long.MinValue, long.MaxValue, LabelMatcher.Create(MatchType.Equal, "__name__", "churn"));
        foreach (var (labels, samples) in before)
        {
            Assert.True(after.TryGetValue(labels, out var replayed), $"{labels} is gone after the restart");
            Assert.Empty(samples.Except(replayed));
        }
    }
}
