using Amphora.Tsdb.Blocks;

namespace Amphora.Compactor.Tests;

public sealed class CompactionPlannerTests
{
    private const long M = 60_000;
    private static readonly TimeSpan[] Ranges = [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(3)];

    private static BlockMeta Block(long min, long max, long createdMs = 0, int level = 1, params string[] extraSources)
    {
        string ulid = Ulid.New(DateTimeOffset.FromUnixTimeMilliseconds(createdMs)).ToString();
        return new BlockMeta
        {
            Ulid = ulid, MinTime = min, MaxTime = max,
            Compaction = new BlockCompaction { Level = level, Sources = [ulid, .. extraSources] },
        };
    }

    [Fact]
    public void Replicas_of_one_range_are_merged_first()
    {
        var a = Block(0, M); var b = Block(0, M); var c = Block(0, M); var later = Block(M, 2 * M);
        var plan = CompactionPlanner.Plan([later, a, b, c], Ranges, readyBefore: long.MaxValue);
        Assert.Equal(new[] { a, b, c }.Select(x => x.Ulid).Order(), plan!.Select(x => x.Ulid).Order());
    }

    [Fact]
    public void Blocks_younger_than_the_consistency_delay_wait()
    {
        var old = Block(0, M, createdMs: 1_000);
        var fresh = Block(0, M, createdMs: 10_000);
        Assert.Null(CompactionPlanner.Plan([old, fresh], Ranges, readyBefore: 5_000));
        Assert.NotNull(CompactionPlanner.Plan([old, fresh], Ranges, readyBefore: 10_000));
    }

    [Fact]
    public void Adjacent_blocks_fill_a_larger_range_once_it_is_complete()
    {
        var b0 = Block(0, M); var b1 = Block(M, 2 * M);
        Assert.Null(CompactionPlanner.Plan([b0, b1], Ranges, long.MaxValue)); // the 3-minute window may still get data
        var b2 = Block(2 * M, 3 * M);
        Assert.Equal(3, CompactionPlanner.Plan([b0, b1, b2], Ranges, long.MaxValue)!.Count);
        var next = Block(3 * M, 4 * M);
        Assert.Equal(2, CompactionPlanner.Plan([b0, b1, next], Ranges, long.MaxValue)!.Count); // newer data closes the window
    }

    [Fact]
    public void The_output_covers_its_inputs_one_level_up_with_all_their_sources()
    {
        var a = Block(0, M); var b = Block(0, M, level: 2, extraSources: "01ARZ3NDEKTSV4RRFFQ69G5FAV");
        var compaction = CompactionPlanner.Compaction([a, b]);
        Assert.Equal(3, compaction.Level);
        Assert.Equal(new[] { a.Ulid, b.Ulid, "01ARZ3NDEKTSV4RRFFQ69G5FAV" }.Order(StringComparer.Ordinal), compaction.Sources);
        Assert.Equal([a.Ulid, b.Ulid], compaction.Parents!.Select(p => p.Ulid));
    }

    [Fact]
    public void A_block_whose_sources_another_block_holds_is_superseded()
    {
        var a = Block(0, M); var b = Block(0, M);
        var merged = new BlockMeta
        {
            Ulid = Ulid.New(DateTimeOffset.UtcNow).ToString(), MinTime = 0, MaxTime = M,
            Compaction = new BlockCompaction { Level = 2, Sources = [a.Ulid, b.Ulid] },
        };
        Assert.Equal(new[] { a.Ulid, b.Ulid }.Order(), BlockSupersession.Superseded([a, b, merged]).Order());
        Assert.Empty(BlockSupersession.Superseded([a, b]));
    }

    [Fact]
    public void Only_blocks_entirely_past_retention_expire()
    {
        var old = Block(0, M); var straddling = Block(M, 3 * M);
        Assert.Equal([old], CompactionPlanner.Expired([old, straddling], cutoff: 2 * M));
    }
}
