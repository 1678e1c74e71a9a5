using Amphora.Bucket;
using Xunit;
using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Blocks;
using Amphora.Tsdb.Chunks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Compactor.Tests;

/// <summary>Blocks written straight into a bucket as ingesters would upload them, and a reader's view of a workspace.</summary>
internal static class TestBlocks
{
    /// <summary>Series "m{i}" with a sample every 5 s in [from, to), value depending only on series and time, so replicas agree.</summary>
    public static SortedDictionary<Labels, List<(long T, double V)>> Data(int series, long from, long to, int skipEvery = 0)
    {
        var data = new SortedDictionary<Labels, List<(long, double)>>();
        for (int s = 0; s < series; s++)
        {
            var samples = new List<(long, double)>();
            int n = 0;
            for (long t = from; t < to; t += 5_000, n++)
                if (skipEvery == 0 || (n + s) % skipEvery != 0) samples.Add((t, s * 1000 + t / 5_000 % 1000));
            data[Labels.FromStrings("__name__", "m", "instance", "i" + s)] = samples;
        }
        return data;
    }

    public static async Task<BlockMeta> UploadAsync(IBucket bucket, string workspace, SortedDictionary<Labels, List<(long T, double V)>> data,
        long minTime, long maxTime, string ingester)
    {
        var dir = Directory.CreateTempSubdirectory("amphora-test-block-").FullName;
        try
        {
            var (meta, blockDir) = BlockWriter.Write(dir, data.Select(kv => (kv.Key, (IReadOnlyList<ChunkData>)BlockWriter.Encode(kv.Value))),
                minTime, maxTime, new AmphoraBlockInfo { Workspace = workspace, Ingester = ingester });
            await BlockUploader.UploadAsync(bucket, BucketLayout.BlockPrefix(workspace, meta.Ulid), blockDir);
            return meta;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Every sample a querier reading the bucket returns for the workspace.</summary>
    public static async Task<Dictionary<Labels, List<(long T, double V)>>> ReadAsync(IBucket bucket, string workspace, IWorkspaceQueryable? wrap = null)
    {
        IWorkspaceQueryable store = new BucketBlockStore(bucket, TimeSpan.Zero, NullLogger.Instance);
        using var q = (wrap ?? store).ForWorkspace(workspace).Querier(long.MinValue, long.MaxValue);
        var set = await q.SelectAsync(true, null, [LabelMatcher.Create(Amphora.Model.MatchType.Regex, "__name__", ".+")]);
        var result = new Dictionary<Labels, List<(long, double)>>();
        while (set.Next())
        {
            var it = set.At().Iterator();
            var list = new List<(long, double)>();
            while (it.Next() != Amphora.Storage.ValueType.None) list.Add(it.At());
            Assert.Null(it.Err);
            result[set.At().Labels] = list;
        }
        Assert.Null(set.Err);
        return result;
    }

    public static void AssertSame(IDictionary<Labels, List<(long T, double V)>> expected, IDictionary<Labels, List<(long T, double V)>> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (labels, samples) in expected)
        {
            Assert.True(actual.TryGetValue(labels, out var got), $"{labels} missing");
            Assert.Equal(samples, got);
        }
    }

    /// <summary>The ULID directories of a workspace that hold a meta.json.</summary>
    public static async Task<List<BlockMeta>> BlocksAsync(IBucket bucket, string workspace)
    {
        var result = new List<BlockMeta>();
        foreach (var entry in await bucket.ListAsync(workspace + "/"))
            if (entry.EndsWith('/') && await bucket.ExistsAsync(entry + BucketLayout.MetaFile))
                result.Add(BlockMeta.Parse(await bucket.GetAsync(entry + BucketLayout.MetaFile)));
        return result;
    }
}
