using Amphora.Bucket;
using Amphora.Tenancy.Limits;
using Amphora.Tenancy.State;

namespace Amphora.Tenancy.Tests;

/// <summary>Distributors count each other through heartbeats in the shared bucket, and each admits its share of a rate.</summary>
public sealed class DistributorCountTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private readonly TempDir _dir = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _dir.Dispose();

    private FilesystemBucket Bucket() => new(_dir.File("bucket"));

    [Fact]
    public async Task Live_distributors_are_counted_a_stopped_or_silent_one_drops_out_and_an_old_heartbeat_is_removed()
    {
        var a = new DistributorCount(Bucket(), "dist-a", Interval, _clock);
        var b = new DistributorCount(Bucket(), "dist-b", Interval, _clock);
        var c = new DistributorCount(Bucket(), "dist-c", Interval, _clock);
        await a.RefreshAsync(default);
        Assert.Equal(1, a.Count);
        await b.RefreshAsync(default);
        await c.RefreshAsync(default);
        await a.RefreshAsync(default);
        Assert.Equal(3, a.Count);
        Assert.Equal(3, c.Count);

        // c goes silent (killed): counted while its heartbeat is within three intervals, then not, then its object is removed.
        _clock.Advance(Interval * 3);
        await b.RefreshAsync(default);
        Assert.Equal(3, b.Count);
        _clock.Advance(TimeSpan.FromSeconds(1));
        await a.RefreshAsync(default);
        Assert.Equal(2, a.Count);
        Assert.Contains(DistributorCount.Dir + "dist-c.json", await Bucket().ListAsync(DistributorCount.Dir));
        _clock.Advance(Interval * 30);
        await a.RefreshAsync(default);
        Assert.Equal(1, a.Count); // b too went silent meanwhile
        Assert.Equal([DistributorCount.Dir + "dist-a.json"], await Bucket().ListAsync(DistributorCount.Dir));

        // b stops in order: its heartbeat goes at once.
        await b.StartAsync(default);
        await a.RefreshAsync(default);
        Assert.Equal(2, a.Count);
        await b.StopAsync(default);
        await a.RefreshAsync(default);
        Assert.Equal(1, a.Count);
    }

    [Fact]
    public async Task Heartbeats_are_not_part_of_the_tenancy_state()
    {
        var bucket = Bucket();
        await new DistributorCount(bucket, "dist-a", Interval, _clock).RefreshAsync(default);
        var store = new TenancyStore(bucket, "test bucket", _dir.File("component"), Interval, time: _clock);
        await store.SyncAsync();
        Assert.Empty(store.Current.Objects);
    }

    [Fact]
    public void An_unusable_name_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new DistributorCount(Bucket(), "../x", Interval, _clock));
        Assert.Contains("the distributor name \"../x\"", e.Message);
    }

    [Fact]
    public void Each_of_two_distributors_refills_at_half_the_rate_and_keeps_the_whole_burst()
    {
        var overrides = new Overrides(Limits.Limits.Default with { IngestionRate = 100, IngestionBurstSize = 200 });
        var limiter = new IngestionRateLimiter(overrides, null, _clock) { Distributors = () => 2 };
        Assert.Null(limiter.Admit("ws", 200));
        _clock.Advance(TimeSpan.FromSeconds(1));
        var refused = limiter.Admit("ws", 100)!;
        Assert.Equal(LimitErrors.IngestionRate, refused.ErrorId);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter); // 50 tokens refilled, 50 more at 50/s
        Assert.Contains("(this distributor admits its share, 50 samples/s, of the 2 distributors serving)", refused.Message);
        Assert.Null(limiter.Admit("ws", 50));
    }
}
