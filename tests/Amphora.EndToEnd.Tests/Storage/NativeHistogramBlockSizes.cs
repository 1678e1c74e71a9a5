using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb;
using Amphora.Tsdb.Blocks;
using Amphora.Tsdb.Chunks;
using Xunit;

namespace Amphora.EndToEnd.Tests.Storage;

/// <summary>
/// Bytes per native histogram sample in a block, Amphora's against Prometheus's on the same samples: the samples of a block
/// Prometheus cut are appended to an Amphora head, which cuts them into a block as an ingester does (chunks as the head cuts
/// them, then the block writer), and both blocks' chunk segments and index are measured.
/// </summary>
internal static class NativeHistogramBlockSizes
{
    /// <summary>
    /// Latency histograms as a client library records them: schema 3 (bucket growth factor 1.09), each step adding a few dozen
    /// log-normal observations around 100 ms, so rare buckets appear now and then (a layout change). Seeded: the same every run.
    /// </summary>
    public static List<(long T, Histogram H)> Latencies(int seed, long start, int steps, long step)
    {
        var random = new Random(seed);
        var buckets = new SortedDictionary<int, long>();
        double sum = 0;
        ulong count = 0;
        var result = new List<(long, Histogram)>(steps);
        for (int k = 0; k < steps; k++)
        {
            int n = 10 + random.Next(40);
            for (int o = 0; o < n; o++)
            {
                double gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                double v = Math.Exp(Math.Log(0.1) + 0.6 * gaussian);
                int index = (int)Math.Ceiling(Math.Log2(v) * 8);
                buckets[index] = buckets.GetValueOrDefault(index) + 1;
                sum += v;
                count++;
            }
            var spans = new List<HistogramSpan>();
            int previousEnd = 0;
            int? runStart = null, last = null;
            foreach (int i in buckets.Keys)
            {
                if (last is { } l && i == l + 1) { last = i; continue; }
                if (runStart is { } rs)
                {
                    spans.Add(new HistogramSpan(spans.Count == 0 ? rs : rs - previousEnd, (uint)(last!.Value - rs + 1)));
                    previousEnd = last.Value + 1;
                }
                runStart = last = i;
            }
            spans.Add(new HistogramSpan(spans.Count == 0 ? runStart!.Value : runStart!.Value - previousEnd, (uint)(last!.Value - runStart.Value + 1)));
            result.Add((start + k * step, new Histogram
            {
                Schema = 3, ZeroThreshold = Math.ScaleB(1, -128), Count = count, Sum = sum, PositiveSpans = spans.ToArray(),
                PositiveBuckets = Histogram.Deltas(buckets.Values.ToArray()),
            }));
        }
        return result;
    }

    public sealed record Sizes(long Samples, int Series, long Chunks, long ChunkBytes, long IndexBytes)
    {
        public double BytesPerSample => (double)(ChunkBytes + IndexBytes) / Samples;
        public override string ToString() =>
            $"{Samples} samples of {Series} series in {Chunks} chunks: chunks {ChunkBytes:N0} B + index {IndexBytes:N0} B = {BytesPerSample:F2} B/sample";
    }

    public static Sizes Measure(string blockDir, BlockMeta meta) => new(meta.Stats.NumSamples, (int)meta.Stats.NumSeries, meta.Stats.NumChunks,
        Directory.GetFiles(Path.Combine(blockDir, "chunks")).Sum(f => new FileInfo(f).Length), new FileInfo(Path.Combine(blockDir, "index")).Length);

    /// <summary>Amphora's block of the samples in <paramref name="block"/> (every series), written under <paramref name="parent"/>.</summary>
    public static async Task<Sizes> AmphoraBlockAsync(Block block, string parent)
    {
        var head = new Head(7_200_000);
        ulong nextRef = 0;
        foreach (var (labels, chunks) in await block.SelectAsync([LabelMatcher.Create(Amphora.Model.MatchType.Regex, "__name__", ".+")], long.MinValue, long.MaxValue))
        {
            var samples = new List<ChunkSample>();
            foreach (var c in chunks) ChunkSamples.Decode(c, samples);
            var series = head.GetOrCreate(labels, () => ++nextRef, _ => { }, out _);
            lock (series.Lock)
            {
                foreach (var s in samples)
                {
                    if (s.H is { } h) series.ApplyHistogram(s.T, h);
                    else if (s.F is { } f)
                        series.ApplyFloatHistogram(s.T, new FloatHistogram
                        {
                            CounterResetHint = f.Hint, Schema = f.Layout.Schema, ZeroThreshold = f.Layout.ZeroThreshold, ZeroCount = f.ZeroCount,
                            Count = f.Count, Sum = f.Sum, PositiveSpans = f.Layout.PositiveSpans, NegativeSpans = f.Layout.NegativeSpans,
                            PositiveBuckets = f.Positive, NegativeBuckets = f.Negative, CustomValues = f.Layout.CustomValues,
                        });
                    else series.Apply(s.T, s.V);
                }
                series.Unpin();
            }
            head.Observe(samples[0].T, samples[^1].T);
        }
        var (meta, dir) = BlockWriter.Write(parent, head.CollectRange(block.Meta.MinTime, block.Meta.MaxTime), block.Meta.MinTime, block.Meta.MaxTime, null);
        Assert.Equal(block.Meta.Stats.NumSamples, meta.Stats.NumSamples);
        return Measure(dir, meta);
    }
}
