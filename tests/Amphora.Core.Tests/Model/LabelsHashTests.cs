using Amphora.Model;
using Xunit;

namespace Amphora.Core.Tests.Model;

public sealed class LabelsHashTests
{
    [Fact]
    public void Equal_label_sets_hash_alike_and_moved_boundaries_or_swapped_names_and_values_do_not()
    {
        var a = Labels.FromStrings("__name__", "up", "job", "node");
        Assert.Equal(a.StableHash, Labels.FromStrings("job", "node", "__name__", "up").StableHash);
        Assert.Equal(a.GetHashCode(), Labels.FromStrings("__name__", "up", "job", "node").GetHashCode());

        var distinct = new[]
        {
            Labels.FromStrings("a", "bc"), Labels.FromStrings("ab", "c"), Labels.FromStrings("bc", "a"),
            Labels.FromStrings("a", "b", "c", ""), Labels.FromStrings("a", "", "b", "c"), Labels.FromStrings("a", "b"),
            Labels.FromStrings("a", "b", "c", "d"), Labels.FromStrings("a", "bcd"), Labels.FromStrings("abc", "d"),
            Labels.Empty,
        };
        Assert.Equal(distinct.Length, distinct.Select(l => l.StableHash).Distinct().Count());
    }

    [Fact]
    public void The_hash_is_the_same_in_every_process_and_version()
    {
        // Pinned: a changed value means a changed algorithm, which must not happen silently (the head's stripes, limit_ratio's
        // choice of series and anything kept by hash depend on it).
        Assert.Equal(13927010660599470393UL, Labels.FromStrings("__name__", "http_requests_total", "job", "api", "code", "200").StableHash);
        Assert.Equal(13022667649625177741UL, Labels.FromStrings("__name__", "x", "é", "∑").StableHash);
    }
}
