using System.Globalization;
using Amphora.Model;
using Amphora.Tsdb.Blocks;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Amphora.Compactor.Tests;

/// <summary>
/// The planner and the merger over generated bucket histories: one to three ingesters upload each range (replicas that may
/// miss samples, arrive late, be cut off mid-upload and finished later, or be abandoned half uploaded), blocks are copied under
/// new ULIDs at level 1, and compactors run between the uploads with random consistency and deletion delays, each killed after
/// a random number of bucket writes (between the files of an upload, between an upload and its marks, in a deletion). After
/// compaction runs to a fixed point, every sample that was ever completely uploaded is in exactly one live block, nothing else
/// is, and no two live blocks overlap. Seed: AMPHORA_COMPACTION_SEED (default 23); cases: AMPHORA_COMPACTION_CASES (default 300).
/// </summary>
public sealed class CompactionPropertyTests(ITestOutputHelper output) : IDisposable
{
    private const long M = 60_000;
    private const string Ws = "ws";
    private readonly string _dir = Directory.CreateTempSubdirectory("amphora-compaction-property-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public async Task After_compaction_settles_each_uploaded_sample_is_in_exactly_one_live_block_and_live_blocks_never_overlap()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("AMPHORA_COMPACTION_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 23;
        int cases = int.TryParse(Environment.GetEnvironmentVariable("AMPHORA_COMPACTION_CASES"), CultureInfo.InvariantCulture, out var c) ? c : 300;
        output.WriteLine($"seed {seed}, {cases} cases (AMPHORA_COMPACTION_SEED, AMPHORA_COMPACTION_CASES)");
        var stats = new BucketHistory.Stats();
        for (int i = 0; i < cases; i++)
        {
            var history = new BucketHistory(new Random(unchecked(seed * 1_000_003 + i)), Path.Combine(_dir, "case-" + i), stats);
            try
            {
                await history.RunAsync();
                await CheckSettledAsync(history);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"seed {seed}, case {i} failed: {e.Message}\nhistory:\n  {string.Join("\n  ", history.Log)}\n{e}");
            }
            finally
            {
                if (Directory.Exists(Path.Combine(_dir, "case-" + i))) Directory.Delete(Path.Combine(_dir, "case-" + i), recursive: true);
            }
        }
        output.WriteLine(stats.ToString());
        // The generator reaches the states it is meant to: otherwise the property holds trivially.
        Assert.True(stats.Crashes > cases / 3, stats.ToString());
        Assert.True(stats.Compactions > cases, stats.ToString());
        Assert.True(stats.MaxLevel >= 3, stats.ToString());
        Assert.True(stats.PartialUploads > cases / 10 && stats.Copies > cases / 10, stats.ToString());
    }

    private static async Task CheckSettledAsync(BucketHistory history)
    {
        var bucket = history.Bucket;
        int passes = await history.CompactToFixedPointAsync(maxPasses: 20);
        Assert.True(passes <= 20, "compaction did not reach a fixed point in 20 passes");
        var census = await BucketCensus.TakeAsync(bucket, Ws);
        Assert.True(census.Overlaps.Count == 0,
            "live blocks overlap: " + string.Join(", ", census.Overlaps.Select(o => $"{Describe(o.A)} and {Describe(o.B)}")));
        Assert.True(census.Marked.Count == 0, $"{census.Marked.Count} marked blocks left after the deletion delay");
        var dirs = (await bucket.ListAsync(Ws + "/")).Where(e => e.EndsWith('/')).ToList();
        Assert.Equal(census.Live.Count, dirs.Count); // no partial upload left past its timeout

        var seen = new Dictionary<(Labels, long), (double V, int Count)>();
        foreach (var meta in census.Live)
        {
            var block = Block.FromMeta(meta, new BucketBlockFiles(bucket, BucketLayout.BlockPrefix(Ws, meta.Ulid)));
            long samples = 0;
            foreach (var (labels, chunks) in await block.ReadAllAsync())
                foreach (var chunk in chunks)
                {
                    var it = new Amphora.Tsdb.Chunks.XorIterator(chunk.Bytes);
                    while (it.Next() != Amphora.Storage.ValueType.None)
                    {
                        var (t, v) = it.At();
                        Assert.True(t >= meta.MinTime && t < meta.MaxTime, $"sample at {t} outside {Describe(meta)}");
                        seen[(labels, t)] = seen.TryGetValue((labels, t), out var x) ? (v, x.Count + 1) : (v, 1);
                        samples++;
                    }
                    Assert.Null(it.Err);
                }
            Assert.Equal(meta.Stats.NumSamples, samples);
        }
        foreach (var (key, v) in history.Truth)
        {
            Assert.True(seen.TryGetValue(key, out var got), $"sample {key.Item1} @{key.Item2} was uploaded and is lost");
            Assert.True(got.Count == 1, $"sample {key.Item1} @{key.Item2} is in the live blocks {got.Count} times");
            Assert.Equal(v, got.V);
        }
        Assert.True(seen.Count == history.Truth.Count, $"the live blocks hold {seen.Count - history.Truth.Count} samples that no complete upload had");
    }

    private static string Describe(BlockMeta b) => $"{b.Ulid} [{b.MinTime / M}m, {b.MaxTime / M}m) level {b.Compaction.Level}";
}
