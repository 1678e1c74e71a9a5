using System.Globalization;
using System.Net;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Foundation;

/// <summary>
/// A real producer of native histograms: an exporter serving them in the protobuf exposition format, scraped every second by
/// Debian's Prometheus 2.42 with <c>--enable-feature=native-histograms</c>, which stores them and remote-writes them to an
/// amphora process (<c>send_native_histograms</c>). The native histogram functions and <c>rate</c> over them answer through
/// amphora's API as through Prometheus's own.
/// </summary>
/// <remarks>
/// Prometheus 2.42 interpolates linearly inside an exponential bucket where Prometheus 3, which amphora follows, interpolates
/// exponentially (the median of /b, inside its bucket (2^0.75, 2], is 1.8409 in 2.42 and 1.8340 in amphora and Prometheus 3),
/// so quantiles and fractions are asked where both are exact: each step adds observations in fixed
/// proportions, and the quantiles and fraction bounds chosen fall on bucket boundaries. Values are compared to 1e-9 relative
/// (the two implementations may order floating-point operations differently); labels, bucket boundaries and series exactly.
/// </remarks>
public sealed class ScrapedNativeHistogramTests : IAsyncLifetime
{
    private AmphoraProcess _amphora = null!;
    private NativeHistogramExporter _exporter = null!;
    private PrometheusProcess _prometheus = null!;

    public async Task InitializeAsync()
    {
        _amphora = AmphoraProcess.Start();
        // Per step: /a (schema 0) 2 observations in (1,2], 1 in (2,4], 1 in (4,8]; /b (schema 2) 1 in (2^0.5,2^0.75], 2 in
        // (2^0.75,2], 1 in (2,2^1.25]. Cumulatively /a reaches half its count at 2 and three quarters at 4, /b a quarter at
        // 2^0.75 and three quarters at 2; their sum (in schema 0) has 5 of 8 observations up to 2.
        _exporter = NativeHistogramExporter.Start(
            new NativeHistogramExporter.Series("/a", 0, new Dictionary<int, ulong> { [1] = 2, [2] = 1, [3] = 1 }, 13.5),
            new NativeHistogramExporter.Series("/b", 2, new Dictionary<int, ulong> { [3] = 1, [4] = 2, [5] = 1 }, 7.25));
        await _amphora.WaitReadyAsync();
        _prometheus = PrometheusProcess.ScrapingInto(_amphora, "e2e", _exporter.Port, "exporter", "send_native_histograms: true",
            "--enable-feature=native-histograms");
        await _prometheus.WaitReadyAsync();
    }

    public async Task DisposeAsync()
    {
        _prometheus.Dispose();
        _exporter.Dispose();
        await _amphora.TerminateAsync(TimeSpan.FromSeconds(30));
        _amphora.Dispose();
    }

    private static readonly string[] Queries =
    [
        "request_seconds",
        "rate(request_seconds[10s])",
        "sum(rate(request_seconds[10s]))",
        "histogram_count(request_seconds)",
        "histogram_sum(request_seconds)",
        "histogram_count(rate(request_seconds[10s]))",
        "histogram_sum(rate(request_seconds[10s]))",
        "histogram_quantile(0.5, rate(request_seconds{path=\"/a\"}[10s]))",
        "histogram_quantile(0.75, rate(request_seconds[10s]))",
        "histogram_quantile(0.25, request_seconds{path=\"/b\"})",
        "histogram_quantile(0.625, sum(rate(request_seconds[10s])))",
        "histogram_fraction(0, 2, rate(request_seconds[10s]))",
        "histogram_fraction(2, 4, request_seconds)",
        "histogram_fraction(0, 2, sum(rate(request_seconds[10s])))",
    ];

    [Fact]
    public async Task Native_histograms_scraped_by_prometheus_answer_through_amphora_as_through_prometheus()
    {
        using var amphora = new PromApiClient(_amphora.BaseAddress, "/workspaces/e2e/api/v1");
        using var prometheus = new PromApiClient(_prometheus.BaseAddress);
        // Remote write forwards only what is scraped after it started: wait until amphora has data, then for 15 more scrapes so
        // that every window asked about lies after its first sample.
        await Eventually.HoldsAsync(async () => (await amphora.QueryAsync("histogram_count(request_seconds)")).Body.Contains("\"path\":\"/b\""),
            () => $"amphora to receive the scraped histograms (scrapes {_exporter.Scrapes}, refused {_exporter.RefusedScrapes}: " +
                $"{_exporter.LastRefusedAccept})\n{_prometheus.Output}\n{_amphora.Output}", TimeSpan.FromSeconds(60));
        int seen = _exporter.Scrapes;
        await Eventually.HoldsAsync(() => Task.FromResult(_exporter.Scrapes >= seen + 15), () => "15 more scrapes", TimeSpan.FromSeconds(60));
        Assert.Equal(0, _exporter.RefusedScrapes);

        long at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3000;
        string difference = "";
        await Eventually.HoldsAsync(async () =>
        {
            foreach (var q in Queries)
            {
                var p = await prometheus.QueryAsync(q, at);
                var a = await amphora.QueryAsync(q, at);
                Assert.True(p.Status == HttpStatusCode.OK, $"prometheus: {q}: {p.Body}");
                if (p.Json.GetProperty("data").GetProperty("result").GetArrayLength() == 0) Assert.Fail($"prometheus has nothing for {q}: {p.Body}");
                if (Differs(Result(a), Result(p)) is { } d)
                {
                    difference = $"{q}: {d}\n amphora    {a.Body}\n prometheus {p.Body}";
                    return false;
                }
                var range = new[] { ("query", q), ("start", PromApiClient.FormatTime(at - 5000)), ("end", PromApiClient.FormatTime(at)), ("step", "1") };
                var pr = await prometheus.GetAsync("query_range", range);
                var ar = await amphora.GetAsync("query_range", range);
                if (Differs(Result(ar), Result(pr)) is { } dr)
                {
                    difference = $"range {q}: {dr}\n amphora    {ar.Body}\n prometheus {pr.Body}";
                    return false;
                }
            }
            return true;
        }, () => $"the same answers from amphora and prometheus; last difference: {difference}", TimeSpan.FromSeconds(30));
    }

    /// <summary>The result array, its series sorted by their labels.</summary>
    private static List<JsonElement> Result(PromApiClient.Response r)
    {
        Assert.True(r.Status == HttpStatusCode.OK, r.Body);
        return r.Json.GetProperty("data").GetProperty("result").EnumerateArray()
            .OrderBy(e => e.GetProperty("metric").GetRawText(), StringComparer.Ordinal).ToList();
    }

    private static string? Differs(List<JsonElement> a, List<JsonElement> p)
    {
        if (a.Count != p.Count) return $"{a.Count} series against {p.Count}";
        for (int i = 0; i < a.Count; i++)
            if (Differs(a[i], p[i], "") is { } d) return d;
        return null;
    }

    /// <summary>Where two JSON values differ: numbers-as-strings to 1e-9 relative, everything else exactly.</summary>
    private static string? Differs(JsonElement a, JsonElement p, string path)
    {
        if (a.ValueKind != p.ValueKind) return $"{path}: {a.ValueKind} against {p.ValueKind}";
        switch (p.ValueKind)
        {
            case JsonValueKind.Object:
                var names = p.EnumerateObject().Select(x => x.Name).Order(StringComparer.Ordinal).ToList();
                if (!a.EnumerateObject().Select(x => x.Name).Order(StringComparer.Ordinal).SequenceEqual(names)) return $"{path}: fields {a} against {p}";
                foreach (var n in names)
                    if (Differs(a.GetProperty(n), p.GetProperty(n), $"{path}.{n}") is { } d) return d;
                return null;
            case JsonValueKind.Array:
                if (a.GetArrayLength() != p.GetArrayLength()) return $"{path}: {a.GetArrayLength()} elements against {p.GetArrayLength()}";
                for (int i = 0; i < p.GetArrayLength(); i++)
                    if (Differs(a[i], p[i], $"{path}[{i}]") is { } d) return d;
                return null;
            case JsonValueKind.String:
                string sa = a.GetString()!, sp = p.GetString()!;
                if (sa == sp) return null;
                if (double.TryParse(sa, NumberStyles.Float, CultureInfo.InvariantCulture, out double da) &&
                    double.TryParse(sp, NumberStyles.Float, CultureInfo.InvariantCulture, out double dp) &&
                    Math.Abs(da - dp) <= 1e-9 * Math.Max(Math.Abs(da), Math.Abs(dp)))
                    return null;
                return $"{path}: {sa} against {sp}";
            default:
                return a.GetRawText() == p.GetRawText() ? null : $"{path}: {a.GetRawText()} against {p.GetRawText()}";
        }
    }
}
