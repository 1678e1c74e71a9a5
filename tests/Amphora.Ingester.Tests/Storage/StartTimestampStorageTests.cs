using Amphora.Ingester.Storage;
using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.Storage;
using Amphora.Tsdb.Wal;
using Microsoft.Extensions.Logging.Abstractions;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Ingester.Tests.Storage;

/// <summary>
/// Samples' start timestamps are kept by the head beside the chunks (closed and open ones, floats and histograms), read back by
/// the iterators the engine uses, and survive a restart through their WAL record, also when the WAL was checkpointed.
/// </summary>
public sealed class StartTimestampStorageTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "amphora-st-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private Task<TsdbStorage> OpenAsync() =>
        TsdbStorage.OpenAsync(_dir, new TsdbOptions { Fsync = FsyncPolicy.Always }, NullLogger.Instance);

    private static readonly Labels Deltas = Labels.FromStrings("__name__", "requests_total", "job", "otel");
    private static readonly Labels Plain = Labels.FromStrings("__name__", "requests_total", "job", "scraped");
    private static readonly Labels Latency = Labels.FromStrings("__name__", "latency_seconds", "job", "otel");
    private const long T0 = 1_700_000_000_000, Step = 15_000;

    /// <summary>Samples i in [from, to) of the three series: OTel deltas (each starts at the previous sample), a plain counter
    /// without start timestamps, and a cumulative histogram whose start is its first sample's time minus a minute.</summary>
    private static async Task WriteAsync(TsdbStorage storage, int from, int to)
    {
        var appender = storage.Appender("ws");
        for (int i = from; i < to; i++)
        {
            long t = T0 + i * Step;
            ulong r = 0;
            Assert.Equal(AppendStatus.Ok, appender.Append(ref r, Deltas, t, 60, t - Step));
            r = 0;
            Assert.Equal(AppendStatus.Ok, appender.Append(ref r, Plain, t, i));
            r = 0;
            var h = new Histogram { Schema = 0, Count = (ulong)i, Sum = i, ZeroCount = (ulong)i };
            Assert.Equal(AppendStatus.Ok, appender.AppendHistogram(ref r, Latency, t, h, T0 - 60_000));
        }
        await appender.CommitAsync();
    }

    /// <summary>Each series' (t, st) pairs, by job and name.</summary>
    private static async Task<Dictionary<string, List<(long T, long ST)>>> ReadAsync(TsdbStorage storage, long seekTo = long.MinValue)
    {
        using var q = storage.ForWorkspace("ws").Querier(long.MinValue, long.MaxValue);
        var set = await q.SelectAsync(true, null, [LabelMatcher.Equal("__name__", "requests_total")]);
        var result = new Dictionary<string, List<(long, long)>>();
        await Collect(set);
        set = await q.SelectAsync(true, null, [LabelMatcher.Equal("__name__", "latency_seconds")]);
        await Collect(set);
        return result;

        Task Collect(ISeriesSet s)
        {
            while (s.Next())
            {
                var list = new List<(long, long)>();
                var it = s.At().Iterator();
                for (var vt = seekTo == long.MinValue ? it.Next() : it.Seek(seekTo); vt != ValueType.None; vt = it.Next()) list.Add((it.AtT(), it.AtST()));
                Assert.Null(it.Err);
                result[s.At().Labels.MetricName + "/" + s.At().Labels.Get("job")] = list;
            }
            return Task.CompletedTask;
        }
    }

    private static void AssertStartTimestamps(Dictionary<string, List<(long T, long ST)>> read, int from, int to)
    {
        var expected = Enumerable.Range(from, to - from).Select(i => T0 + i * Step).ToList();
        Assert.Equal(expected.Select(t => (t, t - Step)), read["requests_total/otel"]);
        Assert.Equal(expected.Select(t => (t, 0L)), read["requests_total/scraped"]);
        Assert.Equal(expected.Select(t => (t, T0 - 60_000)), read["latency_seconds/otel"]);
    }

    [Fact]
    public async Task Start_timestamps_are_read_back_across_chunk_cuts_and_after_a_seek_and_samples_without_one_read_zero()
    {
        using var storage = await OpenAsync();
        await WriteAsync(storage, 0, 300); // 300 samples per series: two closed chunks and an open one
        AssertStartTimestamps(await ReadAsync(storage), 0, 300);
        AssertStartTimestamps(await ReadAsync(storage, seekTo: T0 + 250 * Step), 250, 300);
    }

    [Fact]
    public async Task Start_timestamps_survive_an_unclean_restart_through_the_wal_and_a_checkpoint()
    {
        var storage = await OpenAsync();
        await WriteAsync(storage, 0, 200);
        storage.Checkpoint();
        await WriteAsync(storage, 200, 260);
        var unclean = storage; // never disposed, as after SIGKILL: only what the WAL holds comes back
        using var reopened = await OpenAsync();
        AssertStartTimestamps(await ReadAsync(reopened), 0, 260);
        GC.KeepAlive(unclean);
    }

    [Fact]
    public async Task The_engine_reads_the_heads_start_timestamps_so_increase_sees_every_delta_sample()
    {
        using var storage = await OpenAsync();
        await WriteAsync(storage, 0, 40); // deltas of 60 every 15 s
        long at = T0 + 39 * Step;
        async Task<double> Increase(bool startTimestamps)
        {
            var engine = new PromQLEngine(new EngineOptions { EnableStartTimestamps = startTimestamps });
            var result = await engine.InstantQuery(storage.ForWorkspace("ws"), "increase(requests_total{job=\"otel\"}[5m])", at).ExecAsync(CancellationToken.None);
            return Assert.Single(((VectorValue)result.Value).Samples).F;
        }
        // 20 samples in the window, each a delta of 60 after the previous one: 1200 over five minutes, extrapolated from 19 intervals.
        Assert.Equal(1200, await Increase(startTimestamps: true), 6);
        Assert.Equal(0, await Increase(startTimestamps: false));
    }
}
