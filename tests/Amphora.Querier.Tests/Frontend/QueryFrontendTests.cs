using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.Querier.Api;
using Amphora.Querier.Frontend;
using Amphora.Querier.Tests.Support;
using Xunit;

namespace Amphora.Querier.Tests.Frontend;

/// <summary>
/// Issue 24: the query frontend's split and cached answers equal the querier's unsplit ones, series for series and
/// point for point (NaN and stale markers included), for instant and range queries, <c>@</c>, offsets, subqueries,
/// step-misaligned ranges and staleness at the split boundaries; a sliding dashboard window reuses the cached steps;
/// steps newer than the freshness limit are never cached.
/// </summary>
public sealed class QueryFrontendTests
{
    private const long Minute = 60_000, Hour = 60 * Minute, Day = 24 * Hour;
    private static readonly long Epoch = DateTimeOffset.Parse("2026-11-02T00:00:00Z").ToUnixTimeMilliseconds();
    private const string Ws = "ws-frontend";

    /// <summary>
    /// Three days of data every 30 s: counters with resets, gauges, classic buckets; a series marked stale exactly at the
    /// first midnight and resuming an hour later; one that starts on the second day.
    /// </summary>
    private static MemoryStorage ThreeDays()
    {
        var s = new MemoryStorage();
        var times = Enumerable.Range(0, (int)(3 * Day / 30_000)).Select(i => Epoch + i * 30_000L).ToArray();
        double[] Values(Func<int, double> f) => Enumerable.Range(0, times.Length).Select(f).ToArray();
        for (int i = 0; i < 3; i++)
            s.Add(Labels.FromStrings("__name__", "up", "job", "api", "instance", "h" + i), times, Values(k => (k / 97 + i) % 5 == 0 ? 0 : 1));
        foreach (var code in new[] { "200", "500" })
            s.Add(Labels.FromStrings("__name__", "http_requests_total", "job", "api", "code", code), times,
                Values(k => k * (code == "200" ? 3 : 1) % 5000));
        foreach (var le in new[] { "0.1", "1", "+Inf" })
            s.Add(Labels.FromStrings("__name__", "latency_seconds_bucket", "job", "api", "le", le), times,
                Values(k => k * (le == "0.1" ? 1 : le == "1" ? 2 : 3)));
        s.Add(Labels.FromStrings("__name__", "temperature", "job", "node"), times, Values(k => Math.Sin(k / 50.0) * 30));

        // Stale at midnight of the first day (the split boundary), samples again an hour later.
        var flappy = times.Where(t => t < Epoch + Day || t >= Epoch + Day + Hour).ToList();
        var flappyValues = flappy.Select(t => (double)((t - Epoch) / 30_000 % 11)).ToList();
        int at = flappy.FindIndex(t => t >= Epoch + Day);
        flappy.Insert(at, Epoch + Day);
        flappyValues.Insert(at, StaleNaN.Value);
        s.Add(Labels.FromStrings("__name__", "flappy", "job", "batch"), flappy.ToArray(), flappyValues.ToArray());

        var late = times.Where(t => t >= Epoch + Day + 5 * Hour).ToArray();
        s.Add(Labels.FromStrings("__name__", "late_starter", "job", "batch"), late, late.Select(t => (double)(t % 7)).ToArray());
        return s;
    }

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static (QuerierService Querier, QueryFrontend Frontend, ManualTime Time) Create(MemoryStorage storage, QueryFrontendOptions? options = null)
    {
        var querier = new QuerierService(storage, storage, new QuerierOptions());
        var time = new ManualTime(DateTimeOffset.FromUnixTimeMilliseconds(Epoch + 4 * Day));
        return (querier, new QueryFrontend(querier, options ?? new QueryFrontendOptions(), time), time);
    }

    public static TheoryData<string> Queries() => new()
    {
        "up",
        "rate(http_requests_total[5m])",
        "sum by (code) (increase(http_requests_total[1h]))",
        "histogram_quantile(0.9, sum by (le) (rate(latency_seconds_bucket[10m])))",
        "http_requests_total offset 2h",
        "temperature offset -45m",
        $"up @ {(Epoch + Day + 3 * Hour) / 1000}",
        "temperature @ start()",
        "max_over_time(temperature[2h:7m])",
        "avg_over_time(rate(http_requests_total[5m])[1h:])",
        "flappy",
        "changes(flappy[3h])",
        "late_starter * on() group_left() count(up)",
        "timestamp(temperature)",
        "absent(nonexistent_metric)",
        "time()",
        "topk(1, temperature or flappy)",
        "rate(temperature[5m])",
        "count_over_time(up[range()])",
        "max_over_time(temperature[step()])",
        "temperature offset (10m + 5m)",
    };

    /// <summary>(start, end, step): across both midnights, misaligned to the step, starting and ending on a midnight, one step, a step longer than a day.</summary>
    private static readonly (long Start, long End, long Step)[] Ranges =
    [
        (Epoch + 20 * Hour, Epoch + Day + 26 * Hour, 5 * Minute),
        (Epoch + 23 * Hour + 7_000, Epoch + Day + 2 * Hour + 13_000, 37_000),
        (Epoch + Day, Epoch + 2 * Day, 10 * Minute),
        (Epoch + Day - 30 * Minute, Epoch + Day - 30 * Minute, Minute),
        (Epoch + 3 * Hour, Epoch + 2 * Day + 3 * Hour, 30 * Hour),
    ];

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Split_and_cached_answers_equal_the_querier_s(string query)
    {
        var (querier, frontend, _) = Create(ThreeDays());
        foreach (var (start, end, step) in Ranges)
        {
            string what = $"{query} [{start}, {end}] step {step}";
            var direct = await Outcome(() => querier.RangeQueryAsync(Ws, query, start, end, step, null, CancellationToken.None));
            AssertSame(direct, await Outcome(() => frontend.RangeQueryAsync(Ws, query, start, end, step, null, CancellationToken.None)), what);
            AssertSame(direct, await Outcome(() => frontend.RangeQueryAsync(Ws, query, start, end, step, null, CancellationToken.None)), what + ", cached");
        }
        var instant = await Outcome(() => querier.InstantQueryAsync(Ws, query, Epoch + Day + 90_000, null, CancellationToken.None));
        AssertSame(instant, await Outcome(() => frontend.InstantQueryAsync(Ws, query, Epoch + Day + 90_000, null, CancellationToken.None)), query + " instant");
    }

    /// <summary>A query's answer, or its error (which the frontend must give exactly as the querier does).</summary>
    private static async Task<(QueryResult? Result, string? Error)> Outcome(Func<Task<QueryResult>> query)
    {
        try
        {
            return (await query(), null);
        }
        catch (ApiException e)
        {
            return (null, $"{e.Type}: {e.Message}");
        }
    }

    private static void AssertSame((QueryResult? Result, string? Error) expected, (QueryResult? Result, string? Error) actual, string what)
    {
        Assert.True(expected.Error == actual.Error, $"{what}: expected {expected.Error ?? "an answer"}, got {actual.Error ?? "an answer"}");
        if (expected.Result is not null) AssertSame(expected.Result, actual.Result!, what);
    }

    [Fact]
    public async Task A_second_identical_query_is_answered_from_the_cache_without_reading_storage()
    {
        var (querier, frontend, _) = Create(ThreeDays());
        const string query = "sum by (code) (rate(http_requests_total[5m]))";
        long start = Epoch + 10 * Hour, end = Epoch + Day + 10 * Hour, step = Minute;
        var first = await frontend.RangeQueryAsync(Ws, query, start, end, step, null, CancellationToken.None);
        Assert.True(first.SamplesProcessed > 0);
        Assert.Equal(2, frontend.Cache!.Count); // one extent per day touched
        var second = await frontend.RangeQueryAsync(Ws, query, start, end, step, null, CancellationToken.None);
        Assert.Equal(0, second.SamplesProcessed);
        AssertSame(await querier.RangeQueryAsync(Ws, query, start, end, step, null, CancellationToken.None), second, "cached");

        // Another workspace never sees this workspace's cached result.
        var other = await frontend.RangeQueryAsync("ws-other", query, start, end, step, null, CancellationToken.None);
        Assert.True(other.SamplesProcessed > 0);
    }

    [Fact]
    public async Task A_sliding_dashboard_window_reads_only_the_steps_it_has_not_seen()
    {
        var (querier, frontend, _) = Create(ThreeDays());
        const string query = "rate(http_requests_total[5m])";
        long start = Epoch + Day + 2 * Hour, end = Epoch + Day + 8 * Hour, step = 15_000;
        var full = await frontend.RangeQueryAsync(Ws, query, start, end, step, null, CancellationToken.None);
        for (int refresh = 1; refresh <= 3; refresh++)
        {
            long shift = refresh * 15_000L * 4;
            var slid = await frontend.RangeQueryAsync(Ws, query, start + shift, end + shift, step, null, CancellationToken.None);
            var direct = await querier.RangeQueryAsync(Ws, query, start + shift, end + shift, step, null, CancellationToken.None);
            AssertSame(direct, slid, $"refresh {refresh}");
            Assert.True(slid.SamplesProcessed * 20 < direct.SamplesProcessed,
                $"refresh {refresh} read {slid.SamplesProcessed} samples, the whole window {direct.SamplesProcessed}");
        }
        Assert.True(full.SamplesProcessed > 0);
    }

    [Fact]
    public async Task Steps_newer_than_the_freshness_limit_are_never_cached()
    {
        var storage = ThreeDays();
        var (querier, frontend, time) = Create(storage, new QueryFrontendOptions { MaxCacheFreshness = TimeSpan.FromMinutes(10) });
        long now = Epoch + 2 * Day + 12 * Hour;
        time.Now = DateTimeOffset.FromUnixTimeMilliseconds(now);
        const string query = "sum(recent)";
        long start = now - Hour, end = now, step = Minute;
        var old = Enumerable.Range(0, 50).Select(i => now - Hour + i * Minute).ToArray();
        storage.Add(Labels.FromStrings("__name__", "recent", "job", "x"), old, old.Select(_ => 1.0).ToArray());
        await frontend.RangeQueryAsync(Ws, query, start, end, step, null, CancellationToken.None);

        // Samples arrive for the last ten minutes (newer than the limit): a refresh must see them, so those steps were not cached.
        var fresh = Enumerable.Range(51, 10).Select(i => now - Hour + i * Minute).ToArray();
        storage.Add(Labels.FromStrings("__name__", "recent", "job", "y"), fresh, fresh.Select(_ => 2.0).ToArray());
        var refreshed = await frontend.RangeQueryAsync(Ws, query, start, end, step, null, CancellationToken.None);
        AssertSame(await querier.RangeQueryAsync(Ws, query, start, end, step, null, CancellationToken.None), refreshed, "refresh");
        var last = ((MatrixValue)refreshed.Value).Series.Single().Points[^1];
        Assert.Equal((now, 2.0), (last.T, last.F));
    }

    [Fact]
    public async Task Results_with_annotations_are_answered_but_not_cached()
    {
        var (querier, frontend, _) = Create(ThreeDays());
        const string query = "rate(temperature[5m])"; // a gauge: "might not be a counter"
        long start = Epoch + 2 * Hour, end = Epoch + 4 * Hour, step = Minute;
        var direct = await querier.RangeQueryAsync(Ws, query, start, end, step, null, CancellationToken.None);
        var viaFrontend = await frontend.RangeQueryAsync(Ws, query, start, end, step, null, CancellationToken.None);
        AssertSame(direct, viaFrontend, query);
        Assert.Equal(direct.Infos.Count + direct.Warnings.Count > 0, frontend.Cache!.Count == 0);
    }

    [Fact]
    public async Task Errors_and_limits_are_the_querier_s()
    {
        var (_, frontend, _) = Create(ThreeDays());
        var parse = await Assert.ThrowsAsync<ApiException>(() =>
            frontend.RangeQueryAsync(Ws, "sum(", Epoch, Epoch + 2 * Day, Minute, null, CancellationToken.None));
        Assert.Equal(ApiErrorType.BadData, parse.Type);
        Assert.Contains("parse error", parse.Message);

        // An instant-vector error in one piece fails the whole query, as it fails the unsplit one.
        var dup = await Assert.ThrowsAsync<ApiException>(() => frontend.RangeQueryAsync(Ws,
            "label_replace(up, \"instance\", \"x\", \"instance\", \".*\")", Epoch, Epoch + 2 * Day, Hour, null, CancellationToken.None));
        Assert.Equal(ApiErrorType.Execution, dup.Type);
    }

    [Fact]
    public async Task The_samples_limit_holds_for_the_whole_request_not_for_each_piece()
    {
        var storage = ThreeDays();
        var querier = new QuerierService(storage, storage, new QuerierOptions { MaxSamples = 6000 });
        var frontend = new QueryFrontend(querier, new QueryFrontendOptions());
        long start = Epoch, end = Epoch + 3 * Day - 30_000, step = 30_000; // 8,640 steps of one series
        var direct = await Assert.ThrowsAsync<ApiException>(() => querier.RangeQueryAsync(Ws, "temperature", start, end, step, null, CancellationToken.None));
        var split = await Assert.ThrowsAsync<ApiException>(() => frontend.RangeQueryAsync(Ws, "temperature", start, end, step, null, CancellationToken.None));
        Assert.Equal((direct.Type, direct.Message), (split.Type, split.Message));
        // And again with every piece cached: still refused.
        await Assert.ThrowsAsync<ApiException>(() => frontend.RangeQueryAsync(Ws, "temperature", start, end, step, null, CancellationToken.None));
    }

    [Fact]
    public async Task A_split_query_counts_once_against_the_workspace_s_queue()
    {
        // One slot, one waiting query allowed: a ten-day query's pieces queue as one query, so it is answered, not 429.
        var storage = ThreeDays();
        var querier = new QuerierService(storage, storage, new QuerierOptions { MaxConcurrent = 1 });
        var frontend = new QueryFrontend(querier, new QueryFrontendOptions { MaxQueuedPerWorkspace = 1 });
        var result = await frontend.RangeQueryAsync(Ws, "up", Epoch - 7 * Day, Epoch + 3 * Day, Hour, null, CancellationToken.None);
        Assert.Equal(3, Assert.IsType<MatrixValue>(result.Value).Series.Count);
    }

    private static void AssertSame(QueryResult expected, QueryResult actual, string what)
    {
        Assert.Equal(expected.Warnings.Order(), actual.Warnings.Order());
        Assert.Equal(expected.Infos.Order(), actual.Infos.Order());
        switch (expected.Value)
        {
            case MatrixValue m:
            {
                var a = Assert.IsType<MatrixValue>(actual.Value);
                Assert.True(m.Series.Count == a.Series.Count, $"{what}: {m.Series.Count} series expected, {a.Series.Count} answered");
                for (int i = 0; i < m.Series.Count; i++)
                {
                    Assert.Equal(m.Series[i].Metric, a.Series[i].Metric);
                    Assert.True(m.Series[i].Points.Count == a.Series[i].Points.Count,
                        $"{what}: {m.Series[i].Metric} has {m.Series[i].Points.Count} points, answered {a.Series[i].Points.Count}");
                    for (int p = 0; p < m.Series[i].Points.Count; p++)
                    {
                        var (e, g) = (m.Series[i].Points[p], a.Series[i].Points[p]);
                        Assert.True(e.T == g.T && BitConverter.DoubleToInt64Bits(e.F) == BitConverter.DoubleToInt64Bits(g.F),
                            $"{what}: {m.Series[i].Metric} point {p}: expected ({e.T}, {e.F}), answered ({g.T}, {g.F})");
                    }
                }
                break;
            }
            case VectorValue v:
            {
                var a = Assert.IsType<VectorValue>(actual.Value);
                Assert.Equal(v.Samples.Select(s => (s.Metric.ToString(), s.T, BitConverter.DoubleToInt64Bits(s.F))),
                    a.Samples.Select(s => (s.Metric.ToString(), s.T, BitConverter.DoubleToInt64Bits(s.F))));
                break;
            }
            case ScalarValue s:
            {
                var a = Assert.IsType<ScalarValue>(actual.Value);
                Assert.Equal((s.T, BitConverter.DoubleToInt64Bits(s.V)), (a.T, BitConverter.DoubleToInt64Bits(a.V)));
                break;
            }
            default:
                Assert.Fail($"{what}: unexpected {expected.Value.GetType().Name}");
                break;
        }
    }
}
