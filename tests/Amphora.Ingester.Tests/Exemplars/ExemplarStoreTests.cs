using Amphora.Ingester.Storage;
using Amphora.Model;
using Xunit;

namespace Amphora.Ingester.Tests.Exemplars;

/// <summary>
/// Issue 21: the exemplar store keeps the newest <c>capacity</c> exemplars over all series of a workspace, as Prometheus's
/// circular storage does: duplicates once, older-than-newest refused, labels over 128 characters refused, the oldest
/// overwritten first, and a query sees exactly what a plain list of the accepted exemplars would hold.
/// </summary>
public sealed class ExemplarStoreTests
{
    private static readonly Labels Api = Labels.FromStrings("__name__", "http_request_duration_seconds_bucket", "job", "api", "le", "0.5");
    private static readonly Labels Db = Labels.FromStrings("__name__", "db_query_duration_seconds_bucket", "job", "db", "le", "1");
    private static readonly IReadOnlyList<IReadOnlyList<LabelMatcher>> All = [[LabelMatcher.Create(MatchType.Regex, "job", ".+")]];

    private static Exemplar Trace(string id, double value, long t) => new(Labels.FromStrings("trace_id", id), value, t);

    [Fact]
    public void Exemplars_come_back_by_series_and_time_range_with_resends_kept_once()
    {
        var store = new ExemplarStore(100);
        Assert.Equal(ExemplarAddResult.Added, store.Add(Api, Trace("a1", 0.3, 1000)));
        Assert.Equal(ExemplarAddResult.Added, store.Add(Db, Trace("d1", 0.9, 1500)));
        Assert.Equal(ExemplarAddResult.Added, store.Add(Api, Trace("a2", 0.4, 2000)));
        Assert.Equal(ExemplarAddResult.Duplicate, store.Add(Api, Trace("a2", 0.4, 2000)));
        Assert.Equal(ExemplarAddResult.OutOfOrder, store.Add(Api, Trace("a0", 0.1, 1999)));
        Assert.Equal(ExemplarAddResult.OutOfOrder, store.Add(Api, Trace("a3", 0.1, 2000)));
        Assert.Equal(3, store.Count);

        var all = store.Select(0, 10_000, All);
        Assert.Equal([Db, Api], all.Select(s => s.SeriesLabels)); // label order
        Assert.Equal(["a1", "a2"], all[1].Exemplars.Select(e => e.Labels.Get("trace_id")));
        var api = store.Select(1500, 2000, [[LabelMatcher.Create(MatchType.Equal, "job", "api")]]);
        Assert.Equal(Trace("a2", 0.4, 2000), Assert.Single(Assert.Single(api).Exemplars));
        Assert.Empty(store.Select(2001, 3000, All));
    }

    [Fact]
    public void Labels_longer_than_Prometheus_allows_are_refused()
    {
        var store = new ExemplarStore(10);
        var ok = new Exemplar(Labels.FromStrings("trace_id", new string('x', 128 - "trace_id".Length)), 1, 1);
        var tooLong = new Exemplar(Labels.FromStrings("trace_id", new string('é', 129 - "trace_id".Length)), 1, 2);
        Assert.Equal(ExemplarAddResult.Added, store.Add(Api, ok));
        Assert.Equal(ExemplarAddResult.LabelsTooLong, store.Add(Api, tooLong));
        Assert.Contains("128", ExemplarLimits.Check(tooLong.Labels));
    }

    [Fact]
    public void A_full_store_overwrites_the_oldest_exemplar_of_any_series()
    {
        var store = new ExemplarStore(3);
        store.Add(Api, Trace("a1", 1, 1));
        store.Add(Db, Trace("d1", 1, 2));
        store.Add(Api, Trace("a2", 1, 3));
        store.Add(Db, Trace("d2", 1, 4)); // overwrites a1
        store.Add(Db, Trace("d3", 1, 5)); // overwrites d1
        var all = store.Select(0, 10, All);
        Assert.Equal(["d2", "d3"], all[0].Exemplars.Select(e => e.Labels.Get("trace_id")));
        Assert.Equal(["a2"], all[1].Exemplars.Select(e => e.Labels.Get("trace_id")));
        store.Add(Db, Trace("d4", 1, 6)); // overwrites a2: the api series has none left
        Assert.Equal(1, store.SeriesCount);
        Assert.Equal(3, store.Count);
    }

    [Fact]
    public void Any_sequence_of_adds_leaves_what_a_plain_list_would_hold()
    {
        var random = new Random(21);
        Labels[] series = Enumerable.Range(0, 7).Select(i => Labels.FromStrings("__name__", "m", "job", "j" + i % 3, "i", i.ToString())).ToArray();
        for (int round = 0; round < 200; round++)
        {
            int capacity = random.Next(1, 40);
            var store = new ExemplarStore(capacity);
            var accepted = new List<(Labels Series, Exemplar Exemplar)>();
            var newest = new Dictionary<Labels, Exemplar>();
            for (int op = 0; op < 150; op++)
            {
                var s = series[random.Next(series.Length)];
                var e = Trace("t" + random.Next(4), random.Next(3), random.Next(0, 400));
                var expected = newest.TryGetValue(s, out var n)
                    ? n == e ? ExemplarAddResult.Duplicate : e.T <= n.T ? ExemplarAddResult.OutOfOrder : ExemplarAddResult.Added
                    : ExemplarAddResult.Added;
                Assert.Equal(expected, store.Add(s, e));
                if (expected != ExemplarAddResult.Added) continue;
                accepted.Add((s, e));
                newest[s] = e;
                // The model forgets a series' newest exemplar when the ring drops it, as the store does.
                var kept = accepted.TakeLast(capacity).ToList();
                foreach (var gone in newest.Keys.Where(k => kept.All(x => x.Series != k)).ToList()) newest.Remove(gone);
                long from = random.Next(0, 400), to = from + random.Next(0, 200);
                var matchers = new List<IReadOnlyList<LabelMatcher>> { new[] { LabelMatcher.Create(MatchType.Equal, "job", "j" + random.Next(3)) } };
                var want = kept.Where(x => x.Exemplar.T >= from && x.Exemplar.T <= to && x.Series.Get("job") == matchers[0][0].Value)
                    .GroupBy(x => x.Series).OrderBy(g => g.Key)
                    .Select(g => (g.Key, g.Select(x => x.Exemplar).ToList())).ToList();
                var got = store.Select(from, to, matchers).Select(x => (x.SeriesLabels, x.Exemplars.ToList())).ToList();
                Assert.Equal(want.Count, got.Count);
                for (int i = 0; i < want.Count; i++)
                {
                    Assert.Equal(want[i].Key, got[i].SeriesLabels);
                    Assert.Equal(want[i].Item2, got[i].Item2);
                }
                Assert.Equal(Math.Min(accepted.Count, capacity), store.Count);
            }
        }
    }
}
