using Amphora.Model;

namespace Amphora.Tsdb.Tests.Head;

public sealed class LabelInterningTests
{
    // Each call makes new string instances, as decoding a request does.
    private static Labels Decoded(string job, string instance) =>
        Labels.FromStrings(Copy("__name__"), Copy("up"), Copy("instance"), Copy(instance), Copy("job"), Copy(job));

    private static string Copy(string s) => new(s.AsSpan());

    private static ulong _next;

    private static MemSeries Create(Tsdb.Head head, Labels labels)
    {
        var s = head.GetOrCreate(labels, () => Interlocked.Increment(ref _next), _ => { }, out bool created);
        Assert.True(created);
        lock (s.Lock) s.Unpin();
        return s;
    }

    [Fact]
    public void Series_created_from_separately_decoded_labels_share_the_heads_copy_of_each_name_and_value()
    {
        var head = new Tsdb.Head(600_000);
        var first = Create(head, Decoded("node", "a:9100"));
        var second = Create(head, Decoded("node", "b:9100"));
        Assert.Equal(Decoded("node", "b:9100"), second.Labels);
        for (int i = 0; i < first.Labels.Count; i++) Assert.Same(first.Labels[i].Name, second.Labels[i].Name);
        Assert.Same(first.Labels.Get("job"), second.Labels.Get("job"));
        Assert.Same(first.Labels.MetricName, second.Labels.MetricName);
        Assert.NotSame(first.Labels.Get("instance"), second.Labels.Get("instance"));
        Assert.Same(second, head.Find(Decoded("node", "b:9100")));
    }

    [Fact]
    public void A_value_whose_last_series_the_gc_removed_is_not_shared_with_a_later_series()
    {
        var head = new Tsdb.Head(600_000);
        var gone = Create(head, Decoded("old", "a:9100"));
        Assert.Single(head.CollectGarbage()); // no samples: removed, and its values leave the postings
        var later = Create(head, Decoded("old", "a:9100"));
        Assert.NotSame(gone.Labels.Get("job"), later.Labels.Get("job"));
        Assert.Equal(["old"], head.IndexedLabelValues("job"));
    }
}
