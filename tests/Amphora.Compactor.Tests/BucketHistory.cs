using Amphora.Bucket;
using Amphora.Model;
using Amphora.Tsdb.Blocks;
using Amphora.Tsdb.Chunks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Compactor.Tests;

/// <summary>
/// One generated history of a workspace's bucket (see <see cref="CompactionPropertyTests"/>): 1-minute ranges uploaded by up to
/// three ingesters, compactors over 1, 3 and 6 minute ranges run between the uploads and killed at random writes. Keeps the
/// truth (every sample of every complete upload) and a log of what happened, for the failure message.
/// </summary>
internal sealed class BucketHistory(Random rng, string dir, BucketHistory.Stats stats)
{
    private const long M = 60_000;
    private const string Ws = "ws";
    private static readonly TimeSpan[] Ranges = [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(6)];

    public sealed class Stats
    {
        public int Uploads, PartialUploads, Abandoned, Copies, CompactorRuns, Crashes, Compactions, MaxLevel;

        public override string ToString() =>
            $"{Uploads} uploads ({PartialUploads} cut off and finished later, {Abandoned} abandoned), {Copies} copies under new ULIDs, " +
            $"{CompactorRuns} compactor runs ({Crashes} killed), {Compactions} compacted blocks, highest level {MaxLevel}";
    }

    private readonly ManualClock _clock = new(DateTimeOffset.UtcNow);
    private readonly TimeSpan _consistencyDelay = rng.Next(3) == 0 ? TimeSpan.FromMinutes(20) : TimeSpan.Zero;
    private readonly TimeSpan _deletionDelay = rng.Next(2) == 0 ? TimeSpan.FromMinutes(15) : TimeSpan.Zero;

    public MemoryBucket Bucket { get; } = new();
    public Dictionary<(Labels, long), double> Truth { get; } = new();
    public List<string> Log { get; } = new();

    private CompactorService Compactor(IBucket bucket) => new(bucket, new CompactorOptions
    {
        Ranges = Ranges,
        ConsistencyDelay = _consistencyDelay,
        DeletionDelay = _deletionDelay,
        PartialUploadTimeout = TimeSpan.FromHours(1),
        WorkDir = Path.Combine(dir, "work"),
    }, _ => TimeSpan.FromDays(150), NullLogger<CompactorService>.Instance, _clock);

    public async Task RunAsync()
    {
        Log.Add($"consistency delay {_consistencyDelay}, deletion delay {_deletionDelay}");
        // Ranges after a 6-minute-aligned start, some of them empty; each range's replicas, each uploaded at some step.
        long t0 = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 600 * M) / (6 * M) * (6 * M) + rng.Next(6) * M;
        int steps = rng.Next(2, 6);
        var uploads = new List<(int Step, Func<Task> Run)>();
        int ranges = rng.Next(1, 8);
        for (int r = 0; r < ranges; r++)
        {
            if (rng.Next(5) == 0) continue;
            long from = t0 + r * M;
            int replicas = rng.Next(1, 4);
            for (int i = 0; i < replicas; i++)
            {
                int skip = new[] { 0, 0, 0, 2, 3 }[rng.Next(5)];
                var data = TestBlocks.Data(3, from, from + M, skip);
                int step = rng.Next(steps);
                int kind = rng.Next(10);
                string ingester = "ingester-" + i;
                if (kind == 0)
                    uploads.Add((step, () => UploadAsync(data, from, ingester, complete: false, finishAtStep: null)));
                else if (kind == 1)
                    uploads.Add((step, () => UploadAsync(data, from, ingester, complete: false, finishAtStep: step + 1 + rng.Next(2))));
                else
                    uploads.Add((step, () => UploadAsync(data, from, ingester, complete: true, finishAtStep: null)));
            }
        }
        for (_step = 0; _step <= steps + 2; _step++)
        {
            foreach (var (step, run) in uploads.Where(u => u.Step == _step)) await run();
            foreach (var finish in _finishes.Where(f => f.Step == _step).ToList()) await FinishAsync(finish);
            if (rng.Next(4) == 0) await CopyAsync();
            if (rng.Next(5) != 0) await RunCompactorAsync(crashAfter: rng.Next(3) == 0 ? int.MaxValue : rng.Next(40));
            _clock.Advance(TimeSpan.FromMinutes(10));
        }
        foreach (var finish in _finishes.ToList()) await FinishAsync(finish);
    }

    private int _step;
    private readonly List<(int Step, Func<Task> Run)> _finishes = new();

    private async Task FinishAsync((int Step, Func<Task> Run) finish)
    {
        _finishes.Remove(finish);
        await finish.Run();
    }

    /// <summary>An ingester's upload: files in BlockUploader's order, meta.json last; a cut-off one stops before meta.json and is
    /// uploaded again in full (same ULID) at <paramref name="finishAtStep"/>, as an ingester does after its restart.</summary>
    private async Task UploadAsync(SortedDictionary<Labels, List<(long T, double V)>> data, long from, string ingester, bool complete, int? finishAtStep)
    {
        var local = Directory.CreateTempSubdirectory("amphora-history-block-").FullName;
        var (meta, blockDir) = BlockWriter.Write(local, data.Select(kv => (kv.Key, (IReadOnlyList<ChunkData>)BlockWriter.Encode(kv.Value))),
            from, from + M, new AmphoraBlockInfo { Workspace = Ws, Ingester = ingester });
        string prefix = BucketLayout.BlockPrefix(Ws, meta.Ulid);
        stats.Uploads++;
        if (complete)
        {
            await BlockUploader.UploadAsync(Bucket, prefix, blockDir);
            AddTruth(data);
            Directory.Delete(local, true);
            Log.Add($"step {_step}: {ingester} uploaded {meta.Ulid} [{from / M % 1000}m, +1m)");
            return;
        }
        var files = Directory.GetFiles(Path.Combine(blockDir, "chunks")).Select(f => "chunks/" + Path.GetFileName(f)).Append("index").ToList();
        foreach (var file in files.Take(rng.Next(1, files.Count + 1)))
            await Bucket.UploadAsync(prefix + file, new MemoryStream(await File.ReadAllBytesAsync(Path.Combine(blockDir, file))));
        if (finishAtStep is not { } at)
        {
            stats.Abandoned++;
            Directory.Delete(local, true);
            Log.Add($"step {_step}: {ingester} abandoned its upload of {meta.Ulid} [{from / M % 1000}m, +1m)");
            return;
        }
        stats.PartialUploads++;
        Log.Add($"step {_step}: {ingester} was cut off uploading {meta.Ulid} [{from / M % 1000}m, +1m), finishes at step {at}");
        _finishes.Add((at, async () =>
        {
            await BlockUploader.UploadAsync(Bucket, prefix, blockDir);
            AddTruth(data);
            Directory.Delete(local, true);
            Log.Add($"step {_step}: {ingester} finished uploading {meta.Ulid}");
        }));
    }

    private void AddTruth(SortedDictionary<Labels, List<(long T, double V)>> data)
    {
        foreach (var (labels, samples) in data)
            foreach (var (t, v) in samples) Truth[(labels, t)] = v;
    }

    /// <summary>A complete block (live or marked) uploaded again under a new ULID as a level-1 block of its own.</summary>
    private async Task CopyAsync()
    {
        var census = await BucketCensus.TakeAsync(Bucket, Ws);
        var all = census.Live.Concat(census.Marked).ToList();
        if (all.Count == 0) return;
        var meta = all[rng.Next(all.Count)];
        string ulid = Ulid.New(DateTimeOffset.UtcNow).ToString();
        string from = BucketLayout.BlockPrefix(Ws, meta.Ulid), to = BucketLayout.BlockPrefix(Ws, ulid);
        foreach (var name in await Bucket.ListAsync(from, recursive: true))
        {
            string file = name[from.Length..];
            if (file is BucketLayout.MetaFile or BucketLayout.DeletionMarkFile) continue;
            await Bucket.UploadAsync(to + file, new MemoryStream(await Bucket.GetAsync(name)));
        }
        var copy = meta with { Ulid = ulid, Compaction = new BlockCompaction { Level = 1, Sources = [ulid] } };
        await Bucket.UploadAsync(to + BucketLayout.MetaFile, new MemoryStream(copy.ToJson()));
        stats.Copies++;
        Log.Add($"step {_step}: copied {meta.Ulid} (level {meta.Compaction.Level}) as {ulid}");
    }

    /// <summary>A compactor process: one pass, killed after <paramref name="crashAfter"/> bucket writes.</summary>
    private async Task RunCompactorAsync(int crashAfter)
    {
        var bucket = new CrashingBucket(Bucket, crashAfter);
        var before = (await BucketCensus.TakeAsync(Bucket, Ws)).Live.Select(b => b.Ulid).ToHashSet();
        await Compactor(bucket).RunOnceAsync();
        stats.CompactorRuns++;
        if (bucket.Crashed) stats.Crashes++;
        var after = await BucketCensus.TakeAsync(Bucket, Ws);
        foreach (var b in after.Live.Concat(after.Marked).Where(b => b.Compaction.Level > 1 && !before.Contains(b.Ulid)))
        {
            stats.Compactions++;
            stats.MaxLevel = Math.Max(stats.MaxLevel, b.Compaction.Level);
        }
        Log.Add($"step {_step}: compactor pass{(bucket.Crashed ? $" killed after {crashAfter} writes" : "")}; live now " +
                string.Join(" ", after.Live.Select(b => $"{b.Ulid[^4..]}[{b.MinTime / M % 1000}m,{b.MaxTime / M % 1000}m)L{b.Compaction.Level}")) +
                $"; {after.Marked.Count} marked");
    }

    /// <summary>Passes (no crashes) a day later, each a deletion delay after the one before, until one changes nothing but the
    /// bucket index; returns the passes run.</summary>
    public async Task<int> CompactToFixedPointAsync(int maxPasses)
    {
        _clock.Advance(TimeSpan.FromDays(1));
        var before = await Bucket.ListAsync("", recursive: true);
        for (int pass = 1; pass <= maxPasses; pass++)
        {
            await Compactor(Bucket).RunOnceAsync();
            _clock.Advance(_deletionDelay + TimeSpan.FromMinutes(1));
            var after = await Bucket.ListAsync("", recursive: true);
            if (after.Where(NotIndex).SequenceEqual(before.Where(NotIndex))) return pass;
            before = after;
        }
        return maxPasses + 1;
    }

    private static bool NotIndex(string name) => !name.EndsWith("/" + BucketLayout.IndexFile, StringComparison.Ordinal);
}
