using Amphora.Model;
using Amphora.Storage;
using Amphora.Ingester.Storage;
using Amphora.Tsdb.Wal;
using Microsoft.Extensions.Logging.Abstractions;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Ingester.Tests.Storage;

public sealed class TsdbStorageTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "amphora-tsdb-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private Task<TsdbStorage> OpenAsync(TimeSpan? window = null, FsyncPolicy fsync = FsyncPolicy.Always) =>
        TsdbStorage.OpenAsync(_dir, new TsdbOptions { OutOfOrderWindow = window ?? TimeSpan.FromMinutes(1), Fsync = fsync }, NullLogger.Instance);

    private static Labels L(params string[] pairs) => Labels.FromStrings(pairs);

    private static async Task<AppendStatus[]> WriteAsync(TsdbStorage storage, string workspace, params (Labels L, long T, double V)[] samples)
    {
        var appender = storage.Appender(workspace);
        var statuses = new AppendStatus[samples.Length];
        for (int i = 0; i < samples.Length; i++)
        {
            ulong r = 0;
            statuses[i] = appender.Append(ref r, samples[i].L, samples[i].T, samples[i].V);
        }
        await appender.CommitAsync();
        return statuses;
    }

    private static async Task<Dictionary<string, List<(long, double)>>> ReadAsync(TsdbStorage storage, string workspace, params LabelMatcher[] matchers)
    {
        using var q = storage.ForWorkspace(workspace).Querier(long.MinValue, long.MaxValue);
        var set = await q.SelectAsync(true, null, matchers.Length == 0 ? [LabelMatcher.Create(MatchType.Regex, "__name__", ".+")] : matchers);
        var result = new Dictionary<string, List<(long, double)>>();
        while (set.Next())
        {
            var it = set.At().Iterator();
            var samples = new List<(long, double)>();
            while (it.Next() == ValueType.Float) samples.Add(it.At());
            Assert.Null(it.Err);
            result[set.At().Labels.ToString()] = samples;
        }
        return result;
    }

    [Fact]
    public async Task Samples_are_queryable_with_every_matcher_type()
    {
        using var storage = await OpenAsync();
        var samples = new List<(Labels, long, double)>();
        for (int i = 0; i < 300; i++)
        {
            samples.Add((L("__name__", "m", "job", "a"), i * 1000L, i));
            samples.Add((L("__name__", "m", "job", "b", "env", "prod"), i * 1000L, -i));
        }
        Assert.All(await WriteAsync(storage, "ws", samples.ToArray()), s => Assert.Equal(AppendStatus.Ok, s));

        var all = await ReadAsync(storage, "ws", LabelMatcher.Equal("__name__", "m"));
        Assert.Equal(2, all.Count);
        Assert.All(all.Values, s => Assert.Equal(300, s.Count));
        Assert.Single(await ReadAsync(storage, "ws", LabelMatcher.Create(MatchType.NotEqual, "job", "a")));
        Assert.Single(await ReadAsync(storage, "ws", LabelMatcher.Create(MatchType.Regex, "job", "a|c")));
        Assert.Single(await ReadAsync(storage, "ws", LabelMatcher.Create(MatchType.NotRegex, "job", "a")));
        // env="" matches the series without env.
        Assert.Single(await ReadAsync(storage, "ws", LabelMatcher.Equal("__name__", "m"), LabelMatcher.Equal("env", "")));
        using var q = storage.ForWorkspace("ws").Querier(100_000, 200_000);
        Assert.Equal(["__name__", "env", "job"], await q.LabelNamesAsync([]));
        Assert.Equal(["a", "b"], await q.LabelValuesAsync("job", []));
        Assert.Empty(await ReadAsync(storage, "other"));
    }

    [Fact]
    public async Task The_out_of_order_window_accepts_recent_samples_merged_in_order_and_refuses_older_ones()
    {
        using var storage = await OpenAsync(TimeSpan.FromSeconds(60));
        var s = L("__name__", "ooo");
        await WriteAsync(storage, "ws", (s, 100_000, 1), (s, 160_000, 2));
        var statuses = await WriteAsync(storage, "ws", (s, 130_000, 9), (s, 99_000, 7), (s, 160_000, 2), (s, 160_000, 3));
        Assert.Equal([AppendStatus.Ok, AppendStatus.OutOfOrder, AppendStatus.Ok, AppendStatus.DuplicateTimestamp], statuses);
        var read = (await ReadAsync(storage, "ws")).Values.Single();
        Assert.Equal([(100_000L, 1.0), (130_000, 9), (160_000, 2)], read);

        using var strict = await TsdbStorage.OpenAsync(Path.Combine(_dir, "strict"), new TsdbOptions { OutOfOrderWindow = TimeSpan.Zero }, NullLogger.Instance);
        await WriteAsync(strict, "ws", (s, 100_000, 1));
        Assert.Equal([AppendStatus.OutOfOrder], await WriteAsync(strict, "ws", (s, 99_999, 1)));
    }

    [Fact]
    public async Task Everything_committed_is_back_after_a_restart_or_an_unclean_stop()
    {
        var s = L("__name__", "durable", "i", "1");
        using (var storage = await OpenAsync())
        {
            await WriteAsync(storage, "ws", (s, 1000, 1), (s, 2000, 2));
            var appender = storage.Appender("ws");
            appender.UpdateMetadata(new MetricMetadata("durable", "gauge", "kept", ""));
            await appender.CommitAsync();
        }
        var unclean = await OpenAsync(); // never disposed, as after SIGKILL
        await WriteAsync(unclean, "ws", (s, 3000, 3));
        await WriteAsync(unclean, "gone", (L("__name__", "x"), 1, 1));
        await unclean.DropAsync("gone");

        using var reopened = await OpenAsync();
        Assert.Equal([(1000L, 1.0), (2000, 2), (3000, 3)], (await ReadAsync(reopened, "ws")).Values.Single());
        Assert.Empty(await ReadAsync(reopened, "gone"));
        var metadata = await reopened.MetadataAsync("ws", null, -1, -1);
        Assert.Equal("kept", metadata["durable"].Single().Help);
        Assert.Equal([AppendStatus.DuplicateTimestamp], await WriteAsync(reopened, "ws", (s, 3000, 4)));
    }

    [Fact]
    public async Task A_torn_wal_tail_keeps_every_commit_before_the_cut()
    {
        var s = L("__name__", "torn");
        using (var storage = await OpenAsync())
            for (int i = 0; i < 50; i++) await WriteAsync(storage, "ws", (s, i * 1000L, i));
        string segment = Directory.GetFiles(Path.Combine(_dir, "wal")).Order().Last();
        long length = new FileInfo(segment).Length;
        using (var f = new FileStream(segment, FileMode.Open)) f.SetLength(length - 7);
        using var reopened = await OpenAsync();
        var read = (await ReadAsync(reopened, "ws")).Values.Single();
        Assert.Equal(49, read.Count);
        Assert.Equal(Enumerable.Range(0, 49).Select(i => (i * 1000L, (double)i)), read);
    }

    [Fact]
    public async Task Concurrent_writers_each_find_every_acknowledged_sample_stored()
    {
        using var storage = await OpenAsync();
        const int Writers = 16, Commits = 40;
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (int c = 0; c < Commits; c++)
                await WriteAsync(storage, "ws", (L("__name__", "c", "w", w.ToString()), c * 1000L, c), (L("__name__", "shared"), w * 100_000L + c, c));
        })));
        var read = await ReadAsync(storage, "ws", LabelMatcher.Equal("__name__", "c"));
        Assert.Equal(Writers, read.Count);
        Assert.All(read.Values, s => Assert.Equal(Commits, s.Count));
        Assert.Equal(Writers * Commits, storage.Commits);
    }
}
