using Amphora.Tsdb.Blocks;

namespace Amphora.Compactor;

/// <summary>
/// Decides what to do with one workspace's blocks, as pure functions over their metas (so every rule is testable without a
/// bucket): which blocks overlap and must be merged into one (replicas of the same range from different ingesters, or a
/// replica that arrived after the others were merged), which adjacent blocks fill a larger range, and which are past
/// retention.
/// </summary>
public static class CompactionPlanner
{
    /// <summary>
    /// The next group of blocks to compact into one, or null: overlapping blocks first (oldest first), then for each larger
    /// range the blocks inside one aligned window of it, once newer data shows the window is complete. Blocks younger than
    /// <paramref name="readyBefore"/> (by ULID time) are not touched yet.
    /// </summary>
    public static IReadOnlyList<BlockMeta>? Plan(IReadOnlyList<BlockMeta> live, IReadOnlyList<TimeSpan> ranges, long readyBefore)
    {
        var ready = live.Where(b => Ulid.Parse(b.Ulid).TimestampMs <= readyBefore).OrderBy(b => b.MinTime).ThenBy(b => b.Ulid, StringComparer.Ordinal).ToList();
        if (ready.Count < 2) return null;

        // Overlaps: clusters of blocks whose time ranges intersect.
        var cluster = new List<BlockMeta> { ready[0] };
        long clusterEnd = ready[0].MaxTime;
        foreach (var b in ready.Skip(1))
        {
            if (b.MinTime < clusterEnd)
            {
                cluster.Add(b);
                clusterEnd = Math.Max(clusterEnd, b.MaxTime);
                continue;
            }
            if (cluster.Count > 1) return cluster;
            cluster = [b];
            clusterEnd = b.MaxTime;
        }
        if (cluster.Count > 1) return cluster;

        // Levels: adjacent blocks that together fill (part of) one aligned window of a larger range.
        long newest = live.Max(b => b.MaxTime);
        foreach (var range in ranges.Skip(1).Select(r => (long)r.TotalMilliseconds))
        {
            foreach (var window in ready.Where(b => b.MaxTime - b.MinTime < range).GroupBy(b => FloorDiv(b.MinTime, range)))
            {
                long windowEnd = (window.Key + 1) * range;
                var inside = window.Where(b => b.MaxTime <= windowEnd).ToList();
                if (inside.Count < 2) continue;
                bool complete = newest >= windowEnd || inside.Sum(b => b.MaxTime - b.MinTime) >= range;
                if (complete) return inside;
            }
        }
        return null;
    }

    /// <summary>Blocks entirely older than the retention: every sample before <paramref name="cutoff"/>.</summary>
    public static IEnumerable<BlockMeta> Expired(IEnumerable<BlockMeta> live, long cutoff) => live.Where(b => b.MaxTime <= cutoff);

    /// <summary>The meta of the block that replaces <paramref name="inputs"/>: their whole time range, one level up, all their
    /// sources, and them as parents.</summary>
    public static BlockCompaction Compaction(IReadOnlyList<BlockMeta> inputs) => new()
    {
        Level = inputs.Max(b => b.Compaction.Level) + 1,
        Sources = inputs.SelectMany(b => b.Compaction.Sources).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
        Parents = inputs.Select(b => new BlockParent { Ulid = b.Ulid, MinTime = b.MinTime, MaxTime = b.MaxTime }).ToList(),
    };

    private static long FloorDiv(long a, long b) => a / b - (a % b < 0 ? 1 : 0);
}
