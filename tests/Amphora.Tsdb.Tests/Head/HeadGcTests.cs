using Amphora.Model;

namespace Amphora.Tsdb.Tests.Head;

public sealed class HeadGcTests
{
    private static Labels L(string job, string instance) => Labels.FromStrings("__name__", "up", "instance", instance, "job", job);

    private static ulong _next;
    private static ulong NextRef() => Interlocked.Increment(ref _next);

    private static MemSeries Create(Tsdb.Head head, Labels labels)
    {
        var s = head.GetOrCreate(labels, NextRef, _ => { }, out bool created);
        Assert.True(created);
        return s;
    }

    [Fact]
    public void A_series_an_appender_holds_survives_the_gc_without_samples_and_goes_at_the_next_gc_after_its_release()
    {
        var head = new Tsdb.Head(600_000);
        var held = Create(head, L("a", "1")); // created and pinned, its sample not applied yet
        var applied = Create(head, L("a", "2"));
        lock (applied.Lock)
        {
            applied.Apply(1_000, 1);
            applied.Unpin();
        }
        var emptied = Create(head, L("b", "3"));
        lock (emptied.Lock)
        {
            emptied.Apply(1_000, 1);
            emptied.Unpin();
        }
        head.TruncateBefore(500); // keeps everything
        Assert.Empty(head.CollectGarbage());
        Assert.Equal(3, head.SeriesCount);

        lock (emptied.Lock) emptied.TruncateBefore(2_000);
        Assert.Equal([L("b", "3")], head.CollectGarbage());
        Assert.True(emptied.Removed);
        Assert.False(held.Removed);
        Assert.Equal(2, head.SeriesCount);
        Assert.Equal(["a"], head.IndexedLabelValues("job"));
        Assert.Equal(["1", "2"], head.IndexedLabelValues("instance"));

        // An appender that found the removed series a moment ago looks it up again and gets a new one with a new reference.
        Assert.Null(head.FindPinned(L("b", "3")));
        var again = Create(head, L("b", "3"));
        Assert.NotEqual(emptied.Ref, again.Ref);
        Assert.Same(again, head.Find(L("b", "3")));
        Assert.Null(head.Find(emptied.Ref));

        lock (held.Lock) held.Unpin();
        lock (again.Lock) again.Unpin();
        Assert.Equal(2, head.CollectGarbage().Count);
        Assert.Equal(1, head.SeriesCount);
        Assert.Equal(["2"], head.IndexedLabelValues("instance"));
        Assert.Equal(["a"], head.IndexedLabelValues("job"));
    }

    [Fact]
    public void Every_reference_replay_restored_for_a_series_goes_with_it_and_checkpoints_stop_needing_its_records()
    {
        var head = new Tsdb.Head(600_000);
        var labels = L("a", "1");
        var series = head.Restore(10, labels);
        Assert.Same(series, head.Restore(20, labels)); // logged twice: an alias
        Assert.Equal(1, head.SeriesCount);
        Assert.True(head.NeedsSeriesRecord(10, labels));
        Assert.True(head.NeedsSeriesRecord(20, labels));
        Assert.False(head.NeedsSeriesRecord(30, labels));

        Assert.Single(head.CollectGarbage());
        Assert.Null(head.Find(10));
        Assert.Null(head.Find(20));
        Assert.False(head.NeedsSeriesRecord(10, labels));
        Assert.False(head.NeedsSeriesRecord(20, labels));
        Assert.Equal(0, head.SeriesCount);
        Assert.Empty(head.IndexedLabelValues("__name__"));
    }
}
