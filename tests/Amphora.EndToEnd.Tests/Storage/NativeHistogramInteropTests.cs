using System.Globalization;
using System.Net;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.Model;
using Amphora.Tsdb;
using Amphora.Tsdb.Blocks;
using Amphora.Tsdb.Chunks;
using Xunit;
using Xunit.Abstractions;
using ValueType = Amphora.Storage.ValueType;
using static Amphora.EndToEnd.Tests.Harness.WriteRequestBuilder;

namespace Amphora.EndToEnd.Tests.Storage;

/// <summary>
/// Amphora's native histogram chunks against Debian's Prometheus 2.42 (<c>--enable-feature=native-histograms</c>): a block
/// Prometheus cut from remote-written integer and float histograms reads back exactly through Amphora's block reader, and
/// Prometheus loads an Amphora-written block of histograms and answers queries over it with the counts and sums written.
/// </summary>
public sealed class NativeHistogramInteropTests(ITestOutputHelper output)
{
    private const long Step = 30_000;
    private const int BenchSeries = 20;

    /// <summary>A counter histogram at step <paramref name="i"/>; from step 100 on a new bucket (index 9) appears, so the chunk
    /// that holds both is recoded by its writer.</summary>
    internal static Histogram Counter(int i)
    {
        bool wide = i >= 100;
        long[] absolute = wide ? [3 + i, 2 * i, 5, i / 3] : [3 + i, 2 * i, 5];
        ulong zero = (ulong)(i / 2);
        return new Histogram
        {
            Schema = 3,
            ZeroThreshold = Math.ScaleB(1, -128),
            ZeroCount = zero,
            Count = (ulong)absolute.Sum() + zero + (ulong)(7 + i),
            Sum = 0.125 * i + 17.75,
            PositiveSpans = wide ? [new HistogramSpan(-2, 2), new HistogramSpan(4, 1), new HistogramSpan(4, 1)] : [new HistogramSpan(-2, 2), new HistogramSpan(4, 1)],
            PositiveBuckets = Histogram.Deltas(absolute),
            NegativeSpans = [new HistogramSpan(1, 1)],
            NegativeBuckets = [7 + i],
        };
    }

    internal static FloatHistogramWire Float(int i) => new(0, 0.001, 0.5 * i, 1.5 * i + 4.25, Math.Sin(i), [new HistogramSpan(0, 3)],
        [0.25 * i, 1.5 * i - 0.5 * i, 4.25 - 0.25 * i + 0.5 * i], [], []);

    [Fact]
    public async Task A_block_Prometheus_cut_from_native_histograms_reads_back_exactly()
    {
        using var prometheus = PrometheusProcess.Start("global:\n  scrape_interval: 1m\n", null,
            "--web.enable-remote-write-receiver", "--enable-feature=native-histograms");
        await prometheus.WaitReadyAsync();
        // 4 hours in one request: the head then spans more than 1.5 block ranges and Prometheus cuts its first 2-hour block.
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long start = now - 4 * 3_600_000 - now % Step;
        var counters = Enumerable.Range(0, 481).Select(i => (start + i * Step, Counter(i))).ToList();
        var floats = Enumerable.Range(0, 481).Select(i => (start + i * Step + 500, Float(i))).ToList();
        var request = new WriteRequestBuilder()
            .NativeHistograms("__name__=\"rpc_seconds\",job=\"api\"", counters.Select(c => (c.Item1, (Histogram?)c.Item2, (FloatHistogramWire?)null)).ToArray())
            .NativeHistograms("__name__=\"rpc_seconds_ratio\",job=\"api\"", floats.Select(f => (f.Item1, (Histogram?)null, (FloatHistogramWire?)f.Item2)).ToArray());
        // And latency histograms as a client library records them, every 15 s, for the bytes-per-sample comparison.
        for (int s = 0; s < BenchSeries; s++)
            request.NativeHistograms($"__name__=\"http_request_duration_seconds\",job=\"bench\",instance=\"i{s}\"",
                NativeHistogramBlockSizes.Latencies(s, start, 961, 15_000).Select(x => (x.T, (Histogram?)x.H, (FloatHistogramWire?)null)).ToArray());
        using var writer = new RemoteWriteClient(prometheus.BaseAddress);
        var pushed = await writer.PostAsync("/api/v1/write", null, IronSnappy.Snappy.Encode(request.Encode()));
        Assert.True(pushed.Status == HttpStatusCode.NoContent, $"prometheus refused the histograms: {pushed.Status} {pushed.Body}");

        string data = Path.Combine(prometheus.Dir, "data");
        string? blockDir = null;
        await Eventually.HoldsAsync(() =>
        {
            blockDir = Directory.GetDirectories(data).FirstOrDefault(d => !Path.GetFileName(d).Contains('.') && File.Exists(Path.Combine(d, "meta.json")));
            return Task.FromResult(blockDir is not null);
        }, () => $"Prometheus to cut a block:\n{prometheus.Output}", TimeSpan.FromSeconds(150));
        // A block directory is complete once it has its final name (Prometheus renames it from a .tmp name when written).
        string copy = RepoPaths.NewTempDir("prom-hist-block");
        CopyDirectory(blockDir!, copy);
        prometheus.Dispose();
        try
        {
            await ReadBackAsync(copy, start, counters, floats);
        }
        finally
        {
            try { Directory.Delete(copy, true); } catch (IOException) { }
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.GetDirectories(from)) CopyDirectory(d, Path.Combine(to, Path.GetFileName(d)));
    }

    private async Task ReadBackAsync(string blockDir, long start, List<(long, Histogram)> counters, List<(long, FloatHistogramWire)> floats)
    {
        var block = await Block.OpenAsync(new LocalBlockFiles(blockDir));
        output.WriteLine($"Prometheus block [{block.Meta.MinTime}, {block.Meta.MaxTime}): {block.Meta.Stats.NumSamples} samples, {block.Meta.Stats.NumChunks} chunks");
        using var q = new BlocksQuerier([block], long.MinValue, long.MaxValue);
        var set = await q.SelectAsync(true, null, [LabelMatcher.Equal("job", "api")]);
        int seen = 0;
        while (set.Next())
        {
            var it = (ChunkSequenceIterator)set.At().Iterator();
            bool isFloat = set.At().Labels.MetricName == "rpc_seconds_ratio";
            var expected = isFloat
                ? floats.Where(f => f.Item1 >= block.Meta.MinTime && f.Item1 < block.Meta.MaxTime).Select(f => f.Item1).ToList()
                : counters.Where(c => c.Item1 >= block.Meta.MinTime && c.Item1 < block.Meta.MaxTime).Select(c => c.Item1).ToList();
            int n = 0;
            ValueType vt;
            while ((vt = it.Next()) != ValueType.None)
            {
                Assert.Equal(expected[n], it.AtT());
                int i = (int)((it.AtT() - start) / Step);
                if (isFloat)
                {
                    Assert.Equal(ValueType.FloatHistogram, vt);
                    var f = (FloatHistogramIterator)it.Current!;
                    var want = Float(i);
                    Assert.Equal(want.Count, f.CountValue);
                    Assert.Equal(want.ZeroCount, f.ZeroCountValue);
                    Assert.Equal(BitConverter.DoubleToInt64Bits(want.Sum), BitConverter.DoubleToInt64Bits(f.SumValue));
                    Assert.Equal(want.PositiveCounts, f.Positive.ToArray());
                    Assert.Equal(0.001, f.Layout.ZeroThreshold);
                }
                else
                {
                    Assert.Equal(ValueType.Histogram, vt);
                    AssertSameObservations(Counter(i), it.AtHistogram(), $"sample {i}");
                }
                n++;
            }
            Assert.Null(it.Err);
            Assert.Equal(expected.Count, n);
            seen++;
        }
        Assert.Equal(2, seen);

        // Bytes per histogram sample in the whole block (chunk segments and index), Prometheus's against Amphora's block of
        // the same samples.
        string amphoraDir = RepoPaths.NewTempDir("amphora-hist-block");
        try
        {
            var prometheusSizes = NativeHistogramBlockSizes.Measure(blockDir, block.Meta);
            var amphoraSizes = await NativeHistogramBlockSizes.AmphoraBlockAsync(block, amphoraDir);
            Assert.Equal(2 + BenchSeries, prometheusSizes.Series);
            output.WriteLine($"Prometheus block: {prometheusSizes}");
            output.WriteLine($"Amphora block:    {amphoraSizes} ({amphoraSizes.BytesPerSample / prometheusSizes.BytesPerSample:F2}x)");
        }
        finally
        {
            Directory.Delete(amphoraDir, true);
        }

        // Bytes per histogram sample: Prometheus's chunks against the same samples appended to an Amphora head series.
        foreach (var (labels, chunks) in await block.SelectAsync([LabelMatcher.Equal("job", "api")], long.MinValue, long.MaxValue))
        {
            var samples = new List<ChunkSample>();
            foreach (var c in chunks) ChunkSamples.Decode(c, samples);
            var series = new MemSeries(1, labels, 7_200_000);
            foreach (var sample in samples)
            {
                if (sample.H is { } h) series.ApplyHistogram(sample.T, h);
                else if (sample.F is { } f) series.ApplyFloatHistogram(sample.T, new FloatHistogram
                {
                    CounterResetHint = f.Hint, Schema = f.Layout.Schema, ZeroThreshold = f.Layout.ZeroThreshold, ZeroCount = f.ZeroCount,
                    Count = f.Count, Sum = f.Sum, PositiveSpans = f.Layout.PositiveSpans, NegativeSpans = f.Layout.NegativeSpans,
                    PositiveBuckets = f.Positive, NegativeBuckets = f.Negative, CustomValues = f.Layout.CustomValues,
                });
            }
            List<ChunkData> ours;
            lock (series.Lock) ours = series.Chunks().ToList();
            double prom = (double)chunks.Sum(c => c.Bytes.Length) / samples.Count, amphora = (double)ours.Sum(c => c.Bytes.Length) / samples.Count;
            output.WriteLine($"{labels.MetricName}: {samples.Count} samples; Prometheus {prom:F2} bytes/sample in {chunks.Count} chunks, " +
                $"Amphora {amphora:F2} bytes/sample in {ours.Count} chunks ({amphora / prom:F2}x)");
        }
    }

    [Fact]
    public async Task Prometheus_loads_an_Amphora_block_of_native_histograms_and_answers_with_its_counts_and_sums()
    {
        string dir = RepoPaths.NewTempDir("prom-hist-data");
        try
        {
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            long blockStart = (now - 6 * 3_600_000) / 7_200_000 * 7_200_000;
            var chunks = new List<ChunkData>();
            var written = new List<(long T, Histogram H)>();
            HistogramChunk? chunk = null;
            for (int i = 0; i < 100; i++) // one layout: a raw chunk takes samples of its own layout only
            {
                var h = Counter(i);
                long t = blockStart + i * Step;
                if (chunk is null || chunk.Count == HistogramChunk.MaxSamples) chunk = new HistogramChunk();
                chunk.Append(t, h);
                written.Add((t, h));
            }
            chunks.Add(chunk!.ToChunkData());
            var labels = Labels.FromStrings("__name__", "amphora_rpc_seconds", "job", "api");
            Directory.CreateDirectory(Path.Combine(dir, "data"));
            BlockWriter.Write(Path.Combine(dir, "data"), [(labels, chunks)], blockStart, blockStart + 7_200_000, null);

            using var prometheus = PrometheusProcess.StartOnData(Path.Combine(dir, "data"), "global:\n  scrape_interval: 1m\n",
                "--enable-feature=native-histograms");
            await prometheus.WaitReadyAsync();
            using var http = new HttpClient { BaseAddress = prometheus.BaseAddress };
            foreach (int i in new[] { 0, 1, 57, 98, 99 })
            {
                var (t, h) = written[i];
                string url = $"/api/v1/query?query=amphora_rpc_seconds&time={(t / 1000.0).ToString("0.000", CultureInfo.InvariantCulture)}";
                using var doc = JsonDocument.Parse(await http.GetStringAsync(url));
                var result = doc.RootElement.GetProperty("data").GetProperty("result");
                Assert.True(result.GetArrayLength() == 1, $"sample {i}: {doc.RootElement}");
                var hist = result[0].GetProperty("histogram")[1];
                Assert.Equal(h.Count.ToString(CultureInfo.InvariantCulture), hist.GetProperty("count").GetString());
                Assert.Equal(h.Sum, double.Parse(hist.GetProperty("sum").GetString()!, CultureInfo.InvariantCulture));
                double buckets = hist.GetProperty("buckets").EnumerateArray().Sum(b => double.Parse(b[3].GetString()!, CultureInfo.InvariantCulture));
                Assert.Equal((double)h.Count, buckets);
            }
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    /// <summary>Same counts, sum, schema and threshold, and the same count in every bucket index (a recoded chunk may list
    /// extra buckets at zero).</summary>
    internal static void AssertSameObservations(Histogram expected, Histogram actual, string what)
    {
        Assert.True(expected.Count == actual.Count && expected.ZeroCount == actual.ZeroCount && expected.Schema == actual.Schema &&
            BitConverter.DoubleToInt64Bits(expected.Sum) == BitConverter.DoubleToInt64Bits(actual.Sum) &&
            expected.ZeroThreshold == actual.ZeroThreshold, $"{what}: expected {expected}, got {actual}");
        Assert.Equal(Buckets(expected.PositiveSpans, expected.PositiveBuckets), Buckets(actual.PositiveSpans, actual.PositiveBuckets));
        Assert.Equal(Buckets(expected.NegativeSpans, expected.NegativeBuckets), Buckets(actual.NegativeSpans, actual.NegativeBuckets));
    }

    private static SortedDictionary<int, long> Buckets(HistogramSpan[] spans, long[] deltas)
    {
        var idx = HistogramLayout.Indexes(spans);
        var abs = Histogram.Absolute(deltas);
        var d = new SortedDictionary<int, long>();
        for (int i = 0; i < idx.Length; i++) if (abs[i] != 0) d[idx[i]] = abs[i];
        return d;
    }
}
