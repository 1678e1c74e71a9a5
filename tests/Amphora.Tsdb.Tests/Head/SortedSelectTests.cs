using Amphora.Model;

namespace Amphora.Tsdb.Tests.Head;

/// <summary>A sorted select of the head gives its series in label order, also after series come and go between selects
/// (the head keeps a postings list's series sorted until the list changes).</summary>
public sealed class SortedSelectTests
{
    private static ulong _next;

    private static MemSeries Create(Tsdb.Head head, string instance, string job = "node")
    {
        var s = head.GetOrCreate(Labels.FromStrings("__name__", "up", "instance", instance, "job", job), () => Interlocked.Increment(ref _next),
            _ => { }, out bool created);
        Assert.True(created);
        lock (s.Lock) s.Unpin();
        return s;
    }

    private static readonly LabelMatcher[] Up = [LabelMatcher.Create(MatchType.Equal, "__name__", "up")];

    private static List<string> Instances(IEnumerable<MemSeries> series) => series.Select(s => s.Labels.Get("instance")).ToList();

    [Fact]
    public void Series_created_out_of_order_are_selected_in_label_order_again_and_again()
    {
        var head = new Tsdb.Head(600_000);
        foreach (var i in new[] { "c", "a", "e", "b", "d" }) Create(head, i);
        Assert.Equal(["c", "a", "e", "b", "d"], Instances(head.Select(Up))); // unsorted: as created
        Assert.Equal(["a", "b", "c", "d", "e"], Instances(head.Select(Up, sorted: true)));
        Assert.Equal(["a", "b", "c", "d", "e"], Instances(head.Select(Up, sorted: true)));
        // Filtered by a second matcher after the sorted postings list, still in order.
        Assert.Equal(["b", "d"], Instances(head.Select([.. Up, LabelMatcher.Create(MatchType.Regex, "instance", "b|d")], sorted: true)));
        // Without an equality matcher the candidates are every series: sorted too.
        Assert.Equal(["a", "b", "c", "d", "e"], Instances(head.Select([LabelMatcher.Create(MatchType.Regex, "instance", ".+")], sorted: true)));
    }

    [Fact]
    public void A_series_created_or_removed_after_a_sorted_select_is_in_the_next_one_or_gone_from_it()
    {
        var head = new Tsdb.Head(600_000);
        foreach (var i in new[] { "d", "b" }) Create(head, i);
        Assert.Equal(["b", "d"], Instances(head.Select(Up, sorted: true)));
        Create(head, "c");
        Create(head, "a");
        Assert.Equal(["a", "b", "c", "d"], Instances(head.Select(Up, sorted: true)));
        // None of them has samples, so the GC removes them all; a new one is the only one selected.
        Assert.Equal(4, head.CollectGarbage().Count);
        Assert.Empty(head.Select(Up, sorted: true));
        var e = Create(head, "e");
        Assert.Same(e, Assert.Single(head.Select(Up, sorted: true)));
    }
}
