using Amphora.Model;
using Amphora.Ring;
using Xunit;

namespace Amphora.Ring.Tests;

public sealed class HashRingTests
{
    private static List<RingInstance> Ingesters(int n) =>
        Enumerable.Range(0, n).Select(i => new RingInstance($"ingester-{i}", $"ingester-{i}.ingester:9095")).ToList();

    private static IEnumerable<Labels> SomeSeries(int n) =>
        Enumerable.Range(0, n).Select(i => Labels.FromStrings("__name__", "m" + i % 50, "instance", "host-" + i, "job", "j" + i % 7));

    [Fact]
    public void Every_series_lands_on_three_distinct_ingesters_of_six()
    {
        var ring = new HashRing(Ingesters(6), 3);
        var owners = new List<int>();
        foreach (var s in SomeSeries(10_000))
        {
            ring.Get(HashRing.SeriesKey("ws", s), owners);
            Assert.Equal(3, owners.Distinct().Count());
        }
        Assert.Equal(2, ring.WriteQuorum);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(9)]
    [InlineData(12)]
    [InlineData(24)]
    public void With_the_default_token_count_each_ingester_owns_its_share_within_ten_percent(int ingesters)
    {
        var shares = new HashRing(Ingesters(ingesters), 3).OwnedShares();
        double mean = 1.0 / ingesters;
        Assert.Equal(1.0, shares.Sum(), 6);
        foreach (double s in shares)
            Assert.InRange(s, mean * 0.9, mean * 1.1);
    }

    [Fact]
    public void Every_process_computes_the_same_owners_from_the_same_member_list()
    {
        var a = new HashRing(Ingesters(6), 3);
        var b = new HashRing(Ingesters(6).AsEnumerable().Reverse().ToList(), 3);
        var oa = new List<int>();
        var ob = new List<int>();
        foreach (var s in SomeSeries(2_000))
        {
            uint key = HashRing.SeriesKey("ws", s);
            a.Get(key, oa);
            b.Get(key, ob);
            Assert.Equal(oa.Select(i => a.Instances[i].Name).Order(), ob.Select(i => b.Instances[i].Name).Order());
        }
    }

    [Fact]
    public void Adding_a_seventh_ingester_moves_about_one_seventh_of_the_series()
    {
        var six = new HashRing(Ingesters(6), 1);
        var seven = new HashRing(Ingesters(7), 1);
        var o6 = new List<int>();
        var o7 = new List<int>();
        int moved = 0, total = 20_000;
        foreach (var s in SomeSeries(total))
        {
            uint key = HashRing.SeriesKey("ws", s);
            six.Get(key, o6);
            seven.Get(key, o7);
            if (six.Instances[o6[0]].Name != seven.Instances[o7[0]].Name)
            {
                moved++;
                Assert.Equal("ingester-6", seven.Instances[o7[0]].Name); // series only ever move to the new member
            }
        }
        Assert.InRange(moved / (double)total, 1.0 / 7 * 0.85, 1.0 / 7 * 1.15);
    }

    [Fact]
    public void A_leaving_ingester_is_skipped_and_the_next_one_takes_its_place()
    {
        var members = Ingesters(4);
        members[1] = members[1] with { State = InstanceState.Leaving };
        var ring = new HashRing(members, 3);
        var owners = new List<int>();
        foreach (var s in SomeSeries(1_000))
        {
            ring.Get(HashRing.SeriesKey("ws", s), owners);
            Assert.Equal(3, owners.Count);
            Assert.DoesNotContain(1, owners);
        }
    }

    [Fact]
    public void The_workspace_is_part_of_the_key()
    {
        var s = Labels.FromStrings("__name__", "up");
        Assert.NotEqual(HashRing.SeriesKey("a", s), HashRing.SeriesKey("b", s));
    }

    [Fact]
    public void Members_parse_with_or_without_names_and_bad_ones_are_refused()
    {
        var named = RingMembers.Parse("ingester-0=10.0.0.1:9095, ingester-1=10.0.0.2:9095");
        Assert.Equal(["ingester-0", "ingester-1"], named.Select(m => m.Name));
        var positional = RingMembers.Parse("a:1,b:2,c:3");
        Assert.Equal(["ingester-0", "ingester-1", "ingester-2"], positional.Select(m => m.Name));
        Assert.Throws<FormatException>(() => RingMembers.Parse("nohost"));
        Assert.Throws<FormatException>(() => RingMembers.Parse("x=a:1,x=b:2"));
    }
}
