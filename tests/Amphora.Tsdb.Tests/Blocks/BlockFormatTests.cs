using System.Globalization;
using System.Text;
using Amphora.Model;
using Amphora.Tsdb.Blocks;
using static Amphora.Tsdb.Tests.Blocks.BlockTestData;

namespace Amphora.Tsdb.Tests.Blocks;

public sealed class BlockFormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("amphora-blocks-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static async Task<Dictionary<Labels, List<(long T, double V)>>> ReadAsync(Block block, params LabelMatcher[] matchers)
    {
        using var q = new BlocksQuerier([block], long.MinValue, long.MaxValue);
        var set = await q.SelectAsync(true, null, matchers);
        var result = new Dictionary<Labels, List<(long, double)>>();
        while (set.Next()) result[set.At().Labels] = Samples(set.At().Iterator());
        Assert.Null(set.Err);
        return result;
    }

    [Fact]
    public async Task Written_block_reads_back_bit_exactly_with_every_matcher_type()
    {
        var data = Generate(seriesCount: 60, samplesPerSeries: 400, seed: 1);
        var (meta, dir) = WriteBlock(_dir, data);
        Assert.Equal(data.Count, meta.Stats.NumSeries);
        Assert.Equal(data.Values.Sum(s => s.Count), meta.Stats.NumSamples);
        Assert.False(Directory.Exists(dir + BlockWriter.TempSuffix));

        var block = await Block.OpenAsync(new LocalBlockFiles(dir));
        Assert.Equal("ws-test", block.Meta.Amphora!.Workspace);

        var all = await ReadAsync(block, LabelMatcher.Create(MatchType.Regex, "__name__", ".+"));
        Assert.Equal(data.Count, all.Count);
        foreach (var (labels, samples) in data) AssertSameSamples(samples, all[labels], labels.ToString());

        async Task Check(Func<Labels, bool> expected, params LabelMatcher[] matchers)
        {
            var got = await ReadAsync(block, matchers);
            var want = data.Keys.Where(expected).ToHashSet();
            Assert.True(want.SetEquals(got.Keys), $"{string.Join(",", matchers.Select(m => m.ToString()))}: {got.Count} series, expected {want.Count}");
        }
        await Check(l => l.MetricName == "metric_3", LabelMatcher.Equal("__name__", "metric_3"));
        await Check(l => l.MetricName == "metric_3" && l.Get("job") != "node",
            LabelMatcher.Equal("__name__", "metric_3"), LabelMatcher.Create(MatchType.NotEqual, "job", "node"));
        await Check(l => l.Get("kind") is "1" or "2", LabelMatcher.Create(MatchType.Regex, "kind", "1|2"));
        await Check(l => l.Get("kind") is not ("1" or "2"), LabelMatcher.Create(MatchType.NotRegex, "kind", "1|2"));
        await Check(_ => false, LabelMatcher.Equal("job", "absent"));
        await Check(_ => true, LabelMatcher.Equal("missing", ""));
        await Check(_ => false, LabelMatcher.Create(MatchType.Regex, "missing", ".+"));

        using var q = new BlocksQuerier([block], long.MinValue, long.MaxValue);
        Assert.Equal(["__name__", "instance", "job", "kind"], await q.LabelNamesAsync([]));
        Assert.Equal(["app", "node"], await q.LabelValuesAsync("job", []));
        Assert.Equal(["node"], await q.LabelValuesAsync("job", [LabelMatcher.Equal("instance", "host-0:9100"), LabelMatcher.Equal("__name__", "metric_0")]));
    }

    [Fact]
    public async Task A_select_over_part_of_the_block_returns_the_chunks_overlapping_it()
    {
        var data = Generate(seriesCount: 10, samplesPerSeries: 480, seed: 2);
        var (_, dir) = WriteBlock(_dir, data);
        var block = await Block.OpenAsync(new LocalBlockFiles(dir));
        long from = Start + 3_600_000, to = Start + 3_700_000;
        var got = await block.SelectAsync([LabelMatcher.Create(MatchType.Regex, "__name__", ".+")], from, to);
        foreach (var (labels, chunks) in got)
        {
            Assert.All(chunks, c => Assert.True(c.MaxT >= from && c.MinT <= to));
            Assert.True(chunks.Count < 4, $"{labels}: {chunks.Count} chunks for 100 s of data");
        }
    }

    [Fact]
    public void Ulid_round_trips_and_sorts_by_time()
    {
        var a = Ulid.New(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        var b = Ulid.New(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_001));
        Assert.Equal(26, a.ToString().Length);
        Assert.Equal(a, Ulid.Parse(a.ToString()));
        Assert.Equal(1_700_000_000_000, a.TimestampMs);
        Assert.True(string.CompareOrdinal(a.ToString(), b.ToString()) < 0);
        Assert.False(Ulid.TryParse("not-a-ulid", out _));
    }

    [Fact]
    public async Task A_flipped_byte_in_index_or_chunks_is_reported_as_a_format_error()
    {
        var data = Generate(seriesCount: 5, samplesPerSeries: 100, seed: 3);
        var (_, dir) = WriteBlock(_dir, data);
        var chunkFile = Path.Combine(dir, "chunks", "000001");
        var bytes = File.ReadAllBytes(chunkFile);
        bytes[40] ^= 0xFF;
        File.WriteAllBytes(chunkFile, bytes);
        var block = await Block.OpenAsync(new LocalBlockFiles(dir));
        var e = await Assert.ThrowsAsync<BlockFormatException>(() => ReadAsync(block, LabelMatcher.Create(MatchType.Regex, "__name__", ".+")));
        Assert.Contains("checksum", e.Message);

        var (_, dir2) = WriteBlock(_dir, data);
        var indexFile = Path.Combine(dir2, "index");
        bytes = File.ReadAllBytes(indexFile);
        bytes[20] ^= 0xFF; // inside the symbol table
        File.WriteAllBytes(indexFile, bytes);
        var block2 = await Block.OpenAsync(new LocalBlockFiles(dir2));
        e = await Assert.ThrowsAsync<BlockFormatException>(() => block2.IndexAsync());
        Assert.Contains("symbol table", e.Message);
    }

    [Fact]
    public void Promtool_lists_and_dumps_an_Amphora_block_with_exactly_the_samples_written()
    {
        var data = Generate(seriesCount: 120, samplesPerSeries: 480, seed: 4);
        var (meta, _) = WriteBlock(_dir, data);
        Directory.CreateDirectory(Path.Combine(_dir, "wal")); // promtool opens the directory as a TSDB, which has a WAL

        var list = Promtool("tsdb", "list", _dir);
        var row = list.Split('\n').Single(l => l.StartsWith(meta.Ulid, StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // BLOCK ULID, MIN TIME, MAX TIME, DURATION, NUM SAMPLES, NUM CHUNKS, NUM SERIES, SIZE
        Assert.Equal(meta.MinTime.ToString(CultureInfo.InvariantCulture), row[1]);
        Assert.Equal(meta.MaxTime.ToString(CultureInfo.InvariantCulture), row[2]);
        Assert.Equal(data.Values.Sum(s => s.Count).ToString(CultureInfo.InvariantCulture), row[4]);
        Assert.Equal(data.Count.ToString(CultureInfo.InvariantCulture), row[6]);

        var dumped = ParseDump(Promtool("tsdb", "dump", _dir));
        Assert.Equal(data.Count, dumped.Count);
        foreach (var (labels, samples) in data)
        {
            var got = dumped[DumpKey(labels)];
            Assert.Equal(samples.Count, got.Count);
            for (int i = 0; i < samples.Count; i++)
            {
                Assert.Equal(samples[i].T, got[i].T);
                if (double.IsNaN(samples[i].V)) Assert.True(double.IsNaN(got[i].V), $"{labels} sample {i}: {got[i].V}, expected NaN");
                else Assert.Equal(samples[i].V, got[i].V);
            }
        }
    }

    [Fact]
    public async Task A_block_Prometheus_wrote_reads_back_with_the_same_samples()
    {
        var data = Generate(seriesCount: 40, samplesPerSeries: 300, seed: 5);
        var om = new StringBuilder();
        foreach (var group in data.GroupBy(kv => kv.Key.MetricName))
        {
            om.Append("# TYPE ").Append(group.Key).Append(" gauge\n");
            foreach (var (labels, samples) in group)
                foreach (var (t, v) in samples)
                {
                    if (double.IsNaN(v)) continue; // OpenMetrics text cannot tell a stale marker from NaN
                    string text = double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : v.ToString("R", CultureInfo.InvariantCulture);
                    string selector = group.Key + "{" + string.Join(",", labels.WithoutMetricName().Select(l => $"{l.Name}=\"{l.Value}\"")) + "}";
                    om.Append(selector).Append(' ').Append(text).Append(' ').Append((t / 1000.0).ToString("0.000", CultureInfo.InvariantCulture)).Append('\n');
                }
        }
        om.Append("# EOF\n");
        string input = Path.Combine(_dir, "input.om");
        File.WriteAllText(input, om.ToString());
        string promDir = Path.Combine(_dir, "prometheus");
        Promtool("tsdb", "create-blocks-from", "openmetrics", input, promDir);

        var blocks = new List<Block>();
        foreach (var dir in Directory.GetDirectories(promDir))
            if (Ulid.TryParse(Path.GetFileName(dir), out _)) blocks.Add(await Block.OpenAsync(new LocalBlockFiles(dir)));
        Assert.NotEmpty(blocks);

        using var q = new BlocksQuerier(blocks, long.MinValue, long.MaxValue);
        var set = await q.SelectAsync(true, null, [LabelMatcher.Create(MatchType.Regex, "__name__", ".+")]);
        var got = new Dictionary<Labels, List<(long, double)>>();
        while (set.Next()) got[set.At().Labels] = Samples(set.At().Iterator());
        Assert.Equal(data.Count, got.Count);
        foreach (var (labels, samples) in data)
            AssertSameSamples(samples.Where(s => !double.IsNaN(s.V)).ToList(), got[labels], labels.ToString());
    }
}
