using Amphora.Ingester.Storage;
using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb;
using Amphora.Tsdb.Blocks;
using Amphora.Tsdb.Chunks;
using Amphora.Tsdb.Wal;
using Microsoft.Extensions.Logging.Abstractions;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Ingester.Tests.Storage;

public sealed class HistogramStorageTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "amphora-hist-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private Task<TsdbStorage> OpenAsync() =>
        TsdbStorage.OpenAsync(_dir, new TsdbOptions { OutOfOrderWindow = TimeSpan.FromMinutes(10), Fsync = FsyncPolicy.Always }, NullLogger.Instance);

    private static readonly Labels Series = Labels.FromStrings("__name__", "rpc_duration_seconds", "job", "api");
    private const long T0 = 1_700_000_000_000;

    /// <summary>A counter histogram at step <paramref name="i"/>; <paramref name="wide"/> adds a bucket at index 7.</summary>
    internal static Histogram H(int i, bool wide = false)
    {
        long a = 1 + i, b = 2 * i, c = 3, d = wide ? 1 + i : 0;
        long[] absolute = wide ? [a, b, c, d] : [a, b, c];
        return new Histogram
        {
            Schema = 1,
            ZeroThreshold = Math.ScaleB(1, -128),
            ZeroCount = (ulong)i,
            Count = (ulong)(absolute.Sum() + i),
            Sum = 0.25 * i,
            PositiveSpans = wide ? [new HistogramSpan(0, 2), new HistogramSpan(2, 1), new HistogramSpan(2, 1)] : [new HistogramSpan(0, 2), new HistogramSpan(2, 1)],
            PositiveBuckets = Histogram.Deltas(absolute),
        };
    }

    private static async Task<AppendStatus[]> WriteAsync(TsdbStorage storage, params (long T, Histogram H)[] samples)
    {
        var appender = storage.Appender("ws");
        var statuses = new AppendStatus[samples.Length];
        for (int i = 0; i < samples.Length; i++)
        {
            ulong r = 0;
            statuses[i] = appender.AppendHistogram(ref r, Series, samples[i].T, samples[i].H);
        }
        await appender.CommitAsync();
        return statuses;
    }

    /// <summary>Every sample of the series: floats as (t, v, null), histograms as (t, 0, h).</summary>
    private static async Task<List<(long T, double V, Histogram? H)>> ReadAsync(TsdbStorage storage)
    {
        using var q = storage.ForWorkspace("ws").Querier(long.MinValue, long.MaxValue);
        var set = await q.SelectAsync(true, null, [LabelMatcher.Equal("job", "api")]);
        var result = new List<(long, double, Histogram?)>();
        while (set.Next())
        {
            var it = (ChunkSequenceIterator)set.At().Iterator();
            ValueType vt;
            while ((vt = it.Next()) != ValueType.None)
                result.Add(vt == ValueType.Histogram ? (it.AtT(), 0, it.AtHistogram()) : (it.AtT(), it.At().V, null));
            Assert.Null(it.Err);
        }
        return result;
    }

    private static void AssertSameCounts(Histogram expected, Histogram? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.ZeroCount, actual.ZeroCount);
        Assert.Equal(expected.Sum, actual.Sum);
        // Compare bucket by bucket index: a recoded chunk may hold extra buckets at zero.
        Assert.Equal(Buckets(expected), Buckets(actual));
    }

    private static Dictionary<int, long> Buckets(Histogram h)
    {
        var idx = HistogramLayout.Indexes(h.PositiveSpans);
        var abs = Histogram.Absolute(h.PositiveBuckets);
        var d = new Dictionary<int, long>();
        for (int i = 0; i < idx.Length; i++) if (abs[i] != 0) d[idx[i]] = abs[i];
        return d;
    }

    [Fact]
    public async Task Histograms_are_stored_read_back_and_survive_a_restart_without_a_clean_shutdown()
    {
        var written = Enumerable.Range(0, 300).Select(i => (T0 + 15_000L * i, H(i, wide: i >= 100))).ToArray();
        var unclean = await OpenAsync(); // never disposed, as after SIGKILL: only what the WAL holds comes back
        Assert.All(await WriteAsync(unclean, written[..150]), s => Assert.Equal(AppendStatus.Ok, s));
        Assert.All(await WriteAsync(unclean, written[150..]), s => Assert.Equal(AppendStatus.Ok, s));
        var before = await ReadAsync(unclean);
        Assert.Equal(300, before.Count);
        for (int i = 0; i < 300; i++) AssertSameCounts(written[i].Item2, before[i].H);

        using var reopened = await OpenAsync();
        var after = await ReadAsync(reopened);
        Assert.Equal(300, after.Count);
        for (int i = 0; i < 300; i++)
        {
            Assert.Equal(written[i].Item1, after[i].T);
            AssertSameCounts(written[i].Item2, after[i].H);
        }
    }

    [Fact]
    public async Task An_older_histogram_is_refused_as_out_of_order_whatever_the_window_and_a_repeat_is_accepted()
    {
        using var storage = await OpenAsync();
        Assert.Equal(AppendStatus.Ok, (await WriteAsync(storage, (T0 + 60_000, H(2))))[0]);
        var statuses = await WriteAsync(storage, (T0, H(1)), (T0 + 60_000, H(2)), (T0 + 60_000, H(3)), (T0 + 120_000, H(4)), (T0 + 90_000, H(5)));
        Assert.Equal([AppendStatus.OutOfOrder, AppendStatus.Ok, AppendStatus.DuplicateTimestamp, AppendStatus.Ok, AppendStatus.OutOfOrder], statuses);
        Assert.Equal([T0 + 60_000, T0 + 120_000], (await ReadAsync(storage)).Select(s => s.T));
    }

    [Fact]
    public async Task A_series_switches_between_floats_and_histograms_and_a_reset_starts_a_new_chunk_that_says_so()
    {
        using var storage = await OpenAsync();
        var appender = storage.Appender("ws");
        ulong r = 0;
        Assert.Equal(AppendStatus.Ok, appender.Append(ref r, Series, T0, 1.5));
        Assert.Equal(AppendStatus.Ok, appender.AppendHistogram(ref r, Series, T0 + 1000, H(5)));
        Assert.Equal(AppendStatus.Ok, appender.AppendHistogram(ref r, Series, T0 + 2000, H(6)));
        Assert.Equal(AppendStatus.Ok, appender.AppendHistogram(ref r, Series, T0 + 3000, H(1))); // counts went down: a reset
        Assert.Equal(AppendStatus.Ok, appender.Append(ref r, Series, T0 + 4000, StaleNaN.Value)); // stale marker of a histogram series
        Assert.Equal(AppendStatus.Ok, appender.Append(ref r, Series, T0 + 5000, 7));
        await appender.CommitAsync();

        var read = await ReadAsync(storage);
        Assert.Equal(6, read.Count);
        Assert.Null(read[0].H);
        Assert.Equal(1.5, read[0].V);
        AssertSameCounts(H(6), read[2].H);
        Assert.Equal(CounterResetHint.CounterReset, read[3].H!.CounterResetHint);
        Assert.True(read[4].H!.IsStale);
        Assert.Equal(7, read[5].V);

        var series = storage.HeadFor("ws").Find(Series)!;
        List<ChunkData> chunks;
        lock (series.Lock) chunks = series.Chunks().ToList();
        Assert.Equal([XorChunk.Encoding, HistogramChunk.Encoding, HistogramChunk.Encoding, XorChunk.Encoding], chunks.Select(c => c.Encoding));
    }

    [Fact]
    public async Task A_cut_block_holds_the_histograms_and_reads_back()
    {
        using var storage = await OpenAsync();
        long start = T0 / 7_200_000 * 7_200_000;
        var written = Enumerable.Range(0, 200).Select(i => (start + 30_000L * i, H(i))).ToArray();
        await WriteAsync(storage, written);
        var head = storage.HeadFor("ws");
        var series = head.CollectRange(start, start + 7_200_000);
        var (meta, dir) = BlockWriter.Write(_dir, series, start, start + 7_200_000, null);
        Assert.Equal(200, meta.Stats.NumSamples);
        var block = await Block.OpenAsync(new LocalBlockFiles(dir));
        using var q = new BlocksQuerier([block], long.MinValue, long.MaxValue);
        var set = await q.SelectAsync(true, null, [LabelMatcher.Equal("job", "api")]);
        Assert.True(set.Next());
        var it = (ChunkSequenceIterator)set.At().Iterator();
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(ValueType.Histogram, it.Next());
            Assert.Equal(written[i].Item1, it.AtT());
            Assert.True(Strip(written[i].Item2).SameAs(Strip(it.AtHistogram())), $"sample {i}");
        }
    }

    [Fact]
    public async Task Readers_get_every_histogram_as_a_float_histogram_through_the_iterator_contract()
    {
        using var storage = await OpenAsync();
        await WriteAsync(storage, (T0, H(3)), (T0 + 1000, H(4, wide: true)));
        using var q = storage.ForWorkspace("ws").Querier(long.MinValue, long.MaxValue);
        var set = await q.SelectAsync(true, null, [LabelMatcher.Equal("job", "api")]);
        Assert.True(set.Next());
        ISampleIterator it = set.At().Iterator();
        Assert.Equal(ValueType.Histogram, it.Next());
        var (t, f) = it.AtFloatHistogram();
        Assert.Equal(T0, t);
        Assert.Equal((double)H(3).Count, f.Count);
        Assert.Equal(Histogram.Absolute(H(3).PositiveBuckets).Select(x => (double)x), f.PositiveBuckets.Where(x => x != 0));
        Assert.Equal(ValueType.Histogram, it.Next());
        var reused = new FloatHistogram();
        Assert.Same(reused, it.AtFloatHistogram(reused).H);
        Assert.Equal((double)H(4, wide: true).Count, reused.Count);
        Assert.Equal(1, reused.Schema);
    }

    private static FloatHistogram F(int i, bool gauge = false) => new()
    {
        CounterResetHint = gauge ? CounterResetHint.Gauge : CounterResetHint.Unknown,
        Schema = 2, ZeroThreshold = 0.001, ZeroCount = 0.5 * i, Count = 3.25 * i + 1, Sum = Math.Cos(i),
        PositiveSpans = [new HistogramSpan(1, 2)], PositiveBuckets = [0.75 * i, 2 * i + 1],
    };

    [Fact]
    public async Task Float_histograms_are_stored_survive_an_unclean_restart_and_a_reset_starts_a_chunk_that_says_so()
    {
        var unclean = await OpenAsync();
        var appender = unclean.Appender("ws");
        ulong r = 0;
        for (int i = 0; i < 150; i++) Assert.Equal(AppendStatus.Ok, appender.AppendFloatHistogram(ref r, Series, T0 + 1000L * i, F(i)));
        Assert.Equal(AppendStatus.Ok, appender.AppendFloatHistogram(ref r, Series, T0 + 200_000, F(2))); // counts down: reset
        Assert.Equal(AppendStatus.OutOfOrder, appender.AppendFloatHistogram(ref r, Series, T0 + 100_500, F(3)));
        Assert.Equal(AppendStatus.Ok, appender.Append(ref r, Series, T0 + 201_000, StaleNaN.Value));
        await appender.CommitAsync();

        using var reopened = await OpenAsync();
        foreach (var storage in new[] { unclean, reopened })
        {
            using var q = storage.ForWorkspace("ws").Querier(long.MinValue, long.MaxValue);
            var set = await q.SelectAsync(true, null, [LabelMatcher.Equal("job", "api")]);
            Assert.True(set.Next());
            var it = set.At().Iterator();
            for (int i = 0; i < 150; i++)
            {
                Assert.Equal(ValueType.FloatHistogram, it.Next());
                var (t, f) = it.AtFloatHistogram();
                Assert.Equal(T0 + 1000L * i, t);
                Assert.True(F(i).IdenticalTo(f) || (f.CounterResetHint != CounterResetHint.Unknown && Same(F(i), f)), $"sample {i}: {f}");
            }
            Assert.Equal(ValueType.FloatHistogram, it.Next());
            Assert.Equal(CounterResetHint.CounterReset, it.AtFloatHistogram().H.CounterResetHint);
            Assert.Equal(ValueType.FloatHistogram, it.Next());
            Assert.True(StaleNaN.Is(it.AtFloatHistogram().H.Sum));
            Assert.Equal(ValueType.None, it.Next());
            Assert.Null(it.Err);
        }
    }

    private static bool Same(FloatHistogram a, FloatHistogram b) =>
        a.Count == b.Count && a.ZeroCount == b.ZeroCount && a.Sum == b.Sum && a.PositiveBuckets.SequenceEqual(b.PositiveBuckets) &&
        a.PositiveSpans.SequenceEqual(b.PositiveSpans) && a.Schema == b.Schema && a.ZeroThreshold == b.ZeroThreshold;

    private static Histogram Strip(Histogram h) => new()
    {
        Schema = h.Schema, ZeroThreshold = h.ZeroThreshold, ZeroCount = h.ZeroCount, Count = h.Count, Sum = h.Sum,
        PositiveSpans = h.PositiveSpans, PositiveBuckets = h.PositiveBuckets,
    };
}
