using Amphora.Distributor.Prompb;
using Google.Protobuf;
using Xunit;
using Labels = Amphora.Model.Labels;

namespace Amphora.Distributor.Tests;

/// <summary>
/// The distributor's cache of validated label sets: a series sent again takes its labels from it, an invalid label set never
/// enters it, a changed validation setting is applied to series it holds, and it stays within its bounds.
/// </summary>
public sealed class SeriesLabelsCacheTests
{
    private static byte[] Body(long t, params string[] nameValuePairs)
    {
        var ts = new TimeSeries();
        for (int i = 0; i < nameValuePairs.Length; i += 2)
            ts.Labels.Add(new Label { Name = ByteString.CopyFromUtf8(nameValuePairs[i]), Value = ByteString.CopyFromUtf8(nameValuePairs[i + 1]) });
        ts.Samples.Add(new Sample { Timestamp = t, Value = 1 });
        var request = new WriteRequest();
        request.Timeseries.Add(ts);
        return Distributors.Snappy(request.ToByteArray());
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [Fact]
    public async Task A_series_sent_again_takes_the_label_set_validated_the_first_time()
    {
        var push = new RecordingPush();
        var distributor = Distributors.Create(push);
        string series = Guid.NewGuid().ToString("N");
        Assert.Equal(204, (await distributor.PushBodyAsync("ws-cache-a", Body(Now - 1000, "__name__", "up", "id", series), default)).StatusCode);
        Assert.Equal(204, (await distributor.PushBodyAsync("ws-cache-a", Body(Now, "__name__", "up", "id", series), default)).StatusCode);
        Assert.Equal(Labels.FromStrings("__name__", "up", "id", series), push.Series[1].Labels);
        // Not decoded again: the very object (with its hash) the first request validated.
        Assert.Same(push.Series[0].Labels, push.Series[1].Labels);
        // Another workspace's key space: validated on its own.
        Assert.Equal(204, (await distributor.PushBodyAsync("ws-cache-b", Body(Now, "__name__", "up", "id", series), default)).StatusCode);
        Assert.NotSame(push.Series[0].Labels, push.Series[2].Labels);
    }

    [Fact]
    public async Task An_invalid_label_set_is_refused_every_time_it_is_sent()
    {
        var distributor = Distributors.Create(new RecordingPush());
        var body = Body(Now, "__name__", "up", "b", "1", "a", "2");
        var first = await distributor.PushBodyAsync("ws-cache-invalid", body, default);
        var second = await distributor.PushBodyAsync("ws-cache-invalid", body, default);
        Assert.Equal(400, first.StatusCode);
        Assert.StartsWith("err-amphora-labels-not-sorted", first.Message);
        Assert.Equal((first.StatusCode, first.Message), (second.StatusCode, second.Message));
    }

    [Fact]
    public async Task A_lowered_label_limit_refuses_a_series_the_cache_holds()
    {
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "overrides.yml");
        const string workspace = "ws-cache-limits";
        await File.WriteAllTextAsync(file, $"overrides:\n  {workspace}:\n    max_label_names_per_series: 10\n");
        var overrides = new Amphora.Tenancy.Limits.Overrides(path: file);
        var distributor = new DistributorService(new RecordingPush(), new DistributorOptions(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<DistributorService>.Instance) { Overrides = overrides };
        string[] labels = ["__name__", "up", "a", "1", "b", "2", "c", Guid.NewGuid().ToString("N")];
        Assert.Equal(204, (await distributor.PushBodyAsync(workspace, Body(Now - 1000, labels), default)).StatusCode);
        Assert.Equal(204, (await distributor.PushBodyAsync(workspace, Body(Now - 500, labels), default)).StatusCode);

        await File.WriteAllTextAsync(file, $"overrides:\n  {workspace}:\n    max_label_names_per_series: 3\n");
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(5));
        Assert.True(overrides.ReloadIfChanged());
        var refused = await distributor.PushBodyAsync(workspace, Body(Now, labels), default);
        Assert.Equal(400, refused.StatusCode);
        Assert.StartsWith("err-amphora-max-label-names-per-series: received a series with 4 labels, more than the limit of 3", refused.Message);
    }

    [Fact]
    public async Task Distributors_with_other_name_rules_do_not_share_validated_label_sets()
    {
        var utf8 = Distributors.Create(new RecordingPush(), new DistributorOptions { Validation = new ValidationOptions { Utf8Names = true } });
        var legacy = Distributors.Create(new RecordingPush());
        var body = Body(Now, "__name__", "up", "http.route", Guid.NewGuid().ToString("N"));
        Assert.Equal(204, (await utf8.PushBodyAsync("ws-cache-names", body, default)).StatusCode);
        var refused = await legacy.PushBodyAsync("ws-cache-names", body, default);
        Assert.Equal(400, refused.StatusCode);
        Assert.StartsWith("err-amphora-invalid-label", refused.Message);
    }

    private static byte[] Key(int i) => System.Text.Encoding.UTF8.GetBytes($"label fields of series {i:D6}");

    [Fact]
    public void The_cache_keeps_within_its_entries_and_bytes()
    {
        var byEntries = new SeriesLabelsCache(maxEntries: 100, maxBytes: 1 << 20);
        var byBytes = new SeriesLabelsCache(maxEntries: 100_000, maxBytes: 20_000);
        var labels = Labels.FromStrings("__name__", "up");
        for (int i = 0; i < 10_000; i++)
        {
            foreach (var cache in new[] { byEntries, byBytes })
            {
                int context = cache.Context("ws-bounds", new ValidationOptions());
                if (!cache.TryGet(context, Key(i % 3_000), out _)) cache.Add(context, Key(i % 3_000), labels);
                Assert.InRange(cache.Count, 0, cache.MaxEntries);
                Assert.InRange(cache.Bytes, 0, cache.MaxBytes);
            }
        }
        Assert.True(byEntries.Count > 10 && byBytes.Count > 10, $"{byEntries.Count}, {byBytes.Count}");
    }

    [Fact]
    public void Label_sets_still_sent_stay_and_those_no_longer_sent_are_forgotten()
    {
        var cache = new SeriesLabelsCache(maxEntries: 100_000, maxBytes: 64 << 20);
        int context = cache.Context("ws-turns", new ValidationOptions());
        var labels = Labels.FromStrings("__name__", "up");
        for (int i = 0; i < 2_000; i++) cache.Add(context, Key(i), labels);
        // Only the first thousand are sent from now on; adding new ones after many lookups turns the generations.
        for (int round = 0; round < 40; round++)
        {
            for (int i = 0; i < 1_000; i++) Assert.True(cache.TryGet(context, Key(i), out var found) && ReferenceEquals(found, labels));
            cache.Add(context, Key(10_000 + round), labels);
        }
        Assert.False(cache.TryGet(context, Key(1_500), out _));
        Assert.True(cache.TryGet(context, Key(999), out _));
        Assert.InRange(cache.Count, 1_000, 1_040);
        // A changed setting is a new key space: nothing made under the old one is found.
        int changed = cache.Context("ws-turns", new ValidationOptions { MaxLabelValueLength = 100 });
        Assert.NotEqual(context, changed);
        Assert.False(cache.TryGet(changed, Key(999), out _));
    }
}
