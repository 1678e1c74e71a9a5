using Amphora.Bucket;
using Amphora.Metrics;
using Amphora.Model;
using Amphora.Tsdb.Blocks;
using Amphora.Tsdb.Chunks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Compactor.Tests;

/// <summary>
/// The compactor's self-check fails loudly: a merge whose output holds a sample twice or loses one is not uploaded, the
/// inputs stay live and unmarked, the failure is counted by reason, and the next pass with a correct merge compacts them.
/// </summary>
public sealed class MergeCheckFailureTests : IDisposable
{
    private const long M = 60_000;
    private readonly string _dir = Directory.CreateTempSubdirectory("amphora-mergecheck-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    /// <summary>The real merge, then every series' first chunk written twice: the output would hold those samples twice.</summary>
    private static MergeResult DuplicatingMerge(IReadOnlyList<List<(Labels Labels, List<ChunkData> Chunks)>> blocks)
    {
        var real = BlockMerger.Merge(blocks);
        return real with { Series = real.Series.Select(s => s with { Chunks = [s.Chunks[0], .. s.Chunks] }).ToList() };
    }

    /// <summary>The real merge, then one series' last sample chunk dropped: the output would lose samples.</summary>
    private static MergeResult LosingMerge(IReadOnlyList<List<(Labels Labels, List<ChunkData> Chunks)>> blocks)
    {
        var real = BlockMerger.Merge(blocks);
        var series = real.Series.ToList();
        var first = series[0];
        series[0] = first with { Chunks = [.. first.Chunks.Take(first.Chunks.Count - 1), Truncated(first.Chunks[^1])] };
        return real with { Series = series };
    }

    /// <summary>The chunk re-encoded without its last sample.</summary>
    private static ChunkData Truncated(ChunkData chunk)
    {
        var samples = new List<(long T, double V)>();
        var it = new XorIterator(chunk.Bytes);
        while (it.Next() != Amphora.Storage.ValueType.None) samples.Add(it.At());
        samples.RemoveAt(samples.Count - 1);
        return BlockWriter.Encode(samples).Single();
    }

    private CompactorService Compactor(IBucket bucket, Func<IReadOnlyList<List<(Labels Labels, List<ChunkData> Chunks)>>, MergeResult>? merger = null) =>
        new(bucket, new CompactorOptions
        {
            Ranges = [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(3)],
            ConsistencyDelay = TimeSpan.Zero,
            DeletionDelay = TimeSpan.FromHours(1),
            WorkDir = Path.Combine(_dir, "work"),
            Name = "compactor-0",
        }, _ => TimeSpan.FromDays(150), NullLogger<CompactorService>.Instance)
        { Merger = merger ?? BlockMerger.Merge };

    private static double Failed(MetricsExporter exporter, string reason)
    {
        string prefix = $"amphora_compactor_compactions_total{{reason=\"{reason}\",result=\"failed\"}} ";
        string? line = exporter.Scrape().Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData(MergeCheck.OverlappingChunks)]
    [InlineData(MergeCheck.SampleCountMismatch)]
    public async Task A_merge_that_fails_the_check_uploads_nothing_and_leaves_the_inputs_live(string reason)
    {
        using var exporter = new MetricsExporter();
        var bucket = new FilesystemBucket(Path.Combine(_dir, "bucket"));
        long t0 = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60 * M) / M * M;
        var data = TestBlocks.Data(10, t0, t0 + M);
        var inputs = new List<string>();
        foreach (string ingester in new[] { "ingester-0", "ingester-1", "ingester-2" })
            inputs.Add((await TestBlocks.UploadAsync(bucket, "ws", data, t0, t0 + M, ingester)).Ulid);
        double before = Failed(exporter, reason);

        var faulty = Compactor(bucket, reason == MergeCheck.OverlappingChunks ? DuplicatingMerge : LosingMerge);
        await faulty.RunOnceAsync();

        Assert.Equal(inputs.Order(), (await TestBlocks.BlocksAsync(bucket, "ws")).Select(b => b.Ulid).Order());
        Assert.DoesNotContain(await bucket.ListAsync("ws/", recursive: true),
            n => n.EndsWith("/" + BucketLayout.DeletionMarkFile, StringComparison.Ordinal));
        Assert.Equal(before + 1, Failed(exporter, reason));
        TestBlocks.AssertSame(data, await TestBlocks.ReadAsync(bucket, "ws"));

        // The same blocks with the real merge: one output, each sample once.
        await Compactor(bucket).RunOnceAsync();
        var output = Assert.Single(await TestBlocks.BlocksAsync(bucket, "ws"), b => b.Compaction.Level == 2);
        Assert.Equal(data.Values.Sum(s => s.Count), output.Stats.NumSamples);
        TestBlocks.AssertSame(data, await TestBlocks.ReadAsync(bucket, "ws"));
    }
}
