using Amphora.Model;
using Amphora.Tenancy.Limits;
using Amphora.Tenancy.Workspaces;
using YamlDotNet.Core;

namespace Amphora.Tenancy.Tests;

public sealed class LimitsTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    public void Dispose() => _dir.Dispose();

    private string OverridesFile(string yaml)
    {
        string path = _dir.File("overrides.yaml");
        File.WriteAllText(path, yaml);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(Random.Shared.Next(1, 1000)));
        return path;
    }

    [Fact]
    public void The_defaults_are_AMPs_quotas()
    {
        var l = new Overrides().For("any");
        Assert.Equal(70_000, l.IngestionRate);
        Assert.Equal(1_000_000, l.IngestionBurstSize);
        Assert.Equal(10_000_000, l.MaxSeriesPerWorkspace);
        Assert.Equal(2_000_000, l.MaxSeriesPerMetric);
        Assert.Equal(70, l.MaxLabelNamesPerSeries);
        Assert.Equal(12_000_000, l.MaxSamplesProcessed);
        Assert.Equal(TimeSpan.FromDays(32), l.MaxQueryRange);
    }

    [Fact]
    public void A_writer_over_the_rate_gets_429_with_a_retry_after_and_is_admitted_once_tokens_refill()
    {
        var overrides = new Overrides(Limits.Limits.Default with { IngestionRate = 100, IngestionBurstSize = 200 });
        var limiter = new IngestionRateLimiter(overrides, null, _clock);
        Assert.Null(limiter.Admit("ws", 150));
        var refused = limiter.Admit("ws", 100);
        Assert.NotNull(refused);
        Assert.Equal(429, refused.HttpStatus);
        Assert.Equal(LimitErrors.IngestionRate, refused.ErrorId);
        Assert.Equal(TimeSpan.FromSeconds(0.5), refused.RetryAfter);
        Assert.Equal("1", IngestionRateLimiter.RetryAfterHeader(refused.RetryAfter!.Value));
        Assert.Null(limiter.Admit("other-workspace", 200));
        _clock.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Null(limiter.Admit("ws", 100));
        Assert.Equal(LimitErrors.IngestionBurst, limiter.Admit("ws", 201)!.ErrorId);
    }

    [Fact]
    public void Over_time_the_admitted_rate_stays_at_the_limit()
    {
        var overrides = new Overrides(Limits.Limits.Default with { IngestionRate = 1000, IngestionBurstSize = 1000 });
        var limiter = new IngestionRateLimiter(overrides, null, _clock);
        long admitted = 0;
        for (int i = 0; i < 100; i++)
        {
            if (limiter.Admit("ws", 300) is null) admitted += 300;
            _clock.Advance(TimeSpan.FromMilliseconds(100));
        }
        Assert.InRange(admitted, 9_000, 11_000); // 10 s at 1000/s, plus the initial burst
    }

    private static Labels Series(string metric, params string[] pairs) => Labels.FromStrings([Label.MetricName, metric, .. pairs]);

    [Fact]
    public void The_per_metric_limit_refuses_only_new_series_and_frees_room_when_series_go_away()
    {
        var limiter = new SeriesLimiter(new Overrides(Limits.Limits.Default with { MaxSeriesPerMetric = 2 }), _ => null);
        Assert.Null(limiter.TryAdd("ws", Series("up", "i", "1")));
        Assert.Null(limiter.TryAdd("ws", Series("up", "i", "2")));
        var refused = limiter.TryAdd("ws", Series("up", "i", "3"));
        Assert.Equal(LimitErrors.MaxSeriesPerMetric, refused!.ErrorId);
        Assert.Equal(400, refused.HttpStatus);
        Assert.Contains("max_series_per_metric", refused.Message);
        Assert.Contains("up", refused.Message);
        Assert.Null(limiter.TryAdd("ws", Series("other", "i", "3")));
        Assert.Null(limiter.TryAdd("ws2", Series("up", "i", "3")));
        limiter.Remove("ws", Series("up", "i", "1"));
        Assert.Null(limiter.TryAdd("ws", Series("up", "i", "3")));
        Assert.Equal(3, limiter.ActiveSeries("ws"));
    }

    [Fact]
    public void The_per_workspace_limit_counts_every_metric()
    {
        var limiter = new SeriesLimiter(new Overrides(Limits.Limits.Default with { MaxSeriesPerWorkspace = 2 }), _ => null);
        Assert.Null(limiter.TryAdd("ws", Series("a")));
        Assert.Null(limiter.TryAdd("ws", Series("b")));
        Assert.Equal(LimitErrors.MaxSeriesPerWorkspace, limiter.TryAdd("ws", Series("c"))!.ErrorId);
    }

    [Fact]
    public void An_ingester_enforces_its_share_of_each_limit_rounded_up_and_says_so()
    {
        var config = new WorkspaceConfiguration
        {
            LimitsPerLabelSet = [new LimitsPerLabelSet { LabelSet = new Dictionary<string, string> { ["team"] = "a" }, Limits = new() { MaxSeries = 3 } }],
        };
        // RF 3 of 9 ingesters: a third of 10 series (4, rounded up), a third of 5 per metric (2), a third of 3 per label set (1).
        var limiter = new SeriesLimiter(new Overrides(Limits.Limits.Default with { MaxSeriesPerWorkspace = 10, MaxSeriesPerMetric = 5 }),
            _ => config, share: 3.0 / 9);
        Assert.Null(limiter.TryAdd("ws", Series("up", "team", "a")));
        var perLabelSet = limiter.TryAdd("ws", Series("up", "team", "a", "i", "2"))!;
        Assert.Equal(LimitErrors.MaxSeriesPerLabelSet, perLabelSet.ErrorId);
        Assert.Contains("the series limit of 3 for label set {team=\"a\"} is reached (this ingester's share, 1, is reached", perLabelSet.Message);
        Assert.Null(limiter.TryAdd("ws", Series("up", "i", "2")));
        Assert.Equal(LimitErrors.MaxSeriesPerMetric, limiter.TryAdd("ws", Series("up", "i", "3"))!.ErrorId);
        Assert.Null(limiter.TryAdd("ws", Series("a")));
        Assert.Null(limiter.TryAdd("ws", Series("b")));
        var total = limiter.TryAdd("ws", Series("c"))!;
        Assert.Equal(LimitErrors.MaxSeriesPerWorkspace, total.ErrorId);
        Assert.Contains("the per-workspace series limit of 10 is reached (this ingester's share, 4, is reached", total.Message);
        Assert.Equal(4, limiter.Use().Single().MaxSeries);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeriesLimiter(new Overrides(), _ => null, share: 0));
    }

    [Fact]
    public void The_label_set_limits_of_the_workspace_configuration_apply_to_matching_series_and_the_default_bucket()
    {
        var config = new WorkspaceConfiguration
        {
            LimitsPerLabelSet =
            [
                new LimitsPerLabelSet { LabelSet = new Dictionary<string, string> { ["team"] = "a" }, Limits = new() { MaxSeries = 1 } },
                new LimitsPerLabelSet { LabelSet = new Dictionary<string, string>(), Limits = new() { MaxSeries = 2 } },
            ],
        };
        var limiter = new SeriesLimiter(new Overrides(), ws => ws == "ws" ? config : null);
        Assert.Null(limiter.TryAdd("ws", Series("up", "team", "a", "i", "1")));
        var refused = limiter.TryAdd("ws", Series("up", "team", "a", "i", "2"));
        Assert.Equal(LimitErrors.MaxSeriesPerLabelSet, refused!.ErrorId);
        Assert.Contains("{team=\"a\"}", refused.Message);
        Assert.Contains("limitsPerLabelSet", refused.Message);
        Assert.Null(limiter.TryAdd("ws", Series("up", "team", "b", "i", "1")));
        Assert.Null(limiter.TryAdd("ws", Series("up", "i", "9")));
        Assert.Equal(LimitErrors.MaxSeriesPerLabelSet, limiter.TryAdd("ws", Series("up", "team", "c"))!.ErrorId);
        Assert.Null(limiter.TryAdd("other", Series("up", "team", "a", "i", "2")));
    }

    [Fact]
    public void Raising_a_limit_in_the_overrides_file_takes_effect_without_restart()
    {
        string path = OverridesFile("overrides:\n  ws-a:\n    max_series_per_metric: 1\n");
        var overrides = new Overrides(null, path);
        var limiter = new SeriesLimiter(overrides, _ => null);
        Assert.Null(limiter.TryAdd("ws-a", Series("up", "i", "1")));
        Assert.NotNull(limiter.TryAdd("ws-a", Series("up", "i", "2")));
        Assert.Equal(2_000_000, overrides.For("ws-b").MaxSeriesPerMetric);

        OverridesFile("defaults:\n  ingestion_rate: 5\noverrides:\n  ws-a:\n    max_series_per_metric: 5\n    max_query_range: 64d\n    query_timeout: 1m30s\n");
        Assert.True(overrides.ReloadIfChanged());
        Assert.Null(limiter.TryAdd("ws-a", Series("up", "i", "2")));
        Assert.Equal(TimeSpan.FromDays(64), overrides.For("ws-a").MaxQueryRange);
        Assert.Equal(TimeSpan.FromSeconds(90), overrides.For("ws-a").QueryTimeout);
        Assert.Equal(5, overrides.For("ws-b").IngestionRate);
        Assert.Equal(5, overrides.For("ws-a").IngestionRate);
    }

    [Fact]
    public void A_broken_overrides_file_keeps_the_previous_limits_and_unknown_keys_are_named()
    {
        string path = OverridesFile("overrides:\n  ws-a:\n    max_series_per_metric: 7\n");
        var overrides = new Overrides(null, path);
        OverridesFile("overrides:\n  ws-a:\n    max_series_per_metrik: 9\n");
        Assert.False(overrides.ReloadIfChanged());
        Assert.Equal(7, overrides.For("ws-a").MaxSeriesPerMetric);
        var e = Assert.Throws<YamlException>(() => new Overrides(null, path));
        Assert.Contains("max_series_per_metrik", e.Message);
    }

    [Fact]
    public void Retention_comes_from_the_overrides_and_a_bad_value_is_refused_naming_the_key()
    {
        string path = OverridesFile("overrides:\n  ws-a:\n    retention_period: 1h\n");
        var overrides = new Overrides(null, path);
        Assert.Equal(TimeSpan.FromHours(1), overrides.For("ws-a").RetentionPeriod);
        Assert.Null(overrides.For("ws-b").RetentionPeriod);

        OverridesFile("overrides:\n  ws-a:\n    retention_period: soon\n");
        Assert.False(overrides.ReloadIfChanged());
        Assert.Equal(TimeSpan.FromHours(1), overrides.For("ws-a").RetentionPeriod);
        var e = Assert.Throws<FormatException>(() => new Overrides(null, path));
        Assert.Contains("retention_period", e.Message);
    }

    [Fact]
    public async Task The_overrides_service_reloads_the_file_by_itself()
    {
        string path = OverridesFile("overrides:\n  ws-a:\n    ingestion_rate: 10\n");
        var overrides = new Overrides(null, path, TimeSpan.FromMilliseconds(50));
        await overrides.StartAsync(CancellationToken.None);
        try
        {
            OverridesFile("overrides:\n  ws-a:\n    ingestion_rate: 20\n");
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (overrides.For("ws-a").IngestionRate != 20 && DateTime.UtcNow < deadline) await Task.Delay(20);
            Assert.Equal(20, overrides.For("ws-a").IngestionRate);
        }
        finally
        {
            await overrides.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void Query_limits_bound_concurrency_range_and_samples()
    {
        var overrides = new Overrides(Limits.Limits.Default with { MaxConcurrentQueries = 2 });
        var q = new QueryLimiter(overrides);
        using var one = q.TryEnter("ws", out _);
        var two = q.TryEnter("ws", out _);
        Assert.Null(q.TryEnter("ws", out var busy));
        Assert.Equal(LimitErrors.MaxConcurrentQueries, busy!.ErrorId);
        Assert.Equal(429, busy.HttpStatus);
        two!.Dispose();
        two.Dispose();
        Assert.Equal(1, q.Running("ws"));
        Assert.NotNull(q.TryEnter("ws", out _));

        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Null(q.CheckRange("ws", start, start.AddDays(32)));
        Assert.Equal(LimitErrors.MaxQueryRange, q.CheckRange("ws", start, start.AddDays(33))!.ErrorId);

        Assert.Equal(12_000_000, q.MaxSamples("ws", null));
        Assert.Equal(1000, q.MaxSamples("ws", "1000"));
        Assert.Equal(12_000_000, q.MaxSamples("ws", "99999999999"));
        Assert.Throws<FormatException>(() => q.MaxSamples("ws", "-1"));
        Assert.Equal(422, q.SamplesExceeded("ws", 1000).HttpStatus);
    }

    [Fact]
    public void Rejections_are_counted_by_workspace_and_reason()
    {
        using var exporter = new Amphora.Metrics.MetricsExporter();
        using var metrics = new LimitMetrics();
        var limiter = new SeriesLimiter(new Overrides(Limits.Limits.Default with { MaxSeriesPerMetric = 0 }), _ => null, metrics);
        limiter.TryAdd("ws-counted", Series("up"));
        string text = exporter.Scrape();
        Assert.Contains("amphora_limit_rejections_total{", text);
        Assert.Contains("reason=\"err-amphora-max-series-per-metric\"", text);
        Assert.Contains("workspace=\"ws-counted\"", text);
    }
}
