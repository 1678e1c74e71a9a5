using Amphora.Model;

namespace Amphora.Tsdb.Tests.Head;

public sealed class ChunkPlanningTests
{
    private const long TwoHours = 7_200_000;

    private static List<int> ChunkSizes(long start, long end, long step, long blockRange = TwoHours)
    {
        var series = new MemSeries(1, Labels.FromStrings("__name__", "m"), blockRange);
        for (long t = start; t < end; t += step) series.Apply(t, t / 1000.0);
        return series.Chunks().Select(c => c.Count).ToList();
    }

    [Fact]
    public void A_full_block_range_at_15s_is_cut_into_four_chunks_of_120()
    {
        Assert.Equal([120, 120, 120, 120], ChunkSizes(0, TwoHours, 15_000));
    }

    [Fact]
    public void A_partial_range_is_split_evenly_rather_than_leaving_a_short_last_chunk()
    {
        // 312 samples before the boundary: two chunks of 156, not 120 + 120 + 72; after the boundary a new plan starts.
        var sizes = ChunkSizes(TwoHours - 312 * 15_000, TwoHours + 10 * 15_000, 15_000);
        Assert.Equal([156, 156, 10], sizes);
    }

    [Fact]
    public void Chunks_never_cross_a_block_boundary_and_never_exceed_240_samples()
    {
        // The rate jumps from one sample a minute to one a second: the plan made at the slow rate is capped at 240.
        var series = new MemSeries(1, Labels.FromStrings("__name__", "m"), TwoHours);
        long t = 0;
        for (int i = 0; i < 30; i++, t += 60_000) series.Apply(t, i);
        for (; t < 3 * TwoHours; t += 1_000) series.Apply(t, t);
        var chunks = series.Chunks().ToList();
        Assert.All(chunks, c => Assert.True(c.Count <= 240, $"a chunk of {c.Count} samples"));
        Assert.All(chunks, c => Assert.Equal(c.MinT / TwoHours, c.MaxT / TwoHours));
        Assert.Equal(3 * TwoHours / 1_000 - 30 * 60 + 30, chunks.Sum(c => c.Count));
    }
}
