using System.Globalization;
using System.Net;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Amphora.EndToEnd.Tests.PromQL;

/// <summary>
/// The same data is remote-written into amphora and into Debian's Prometheus 2.42; every query of agreement-queries.txt, as
/// an instant and as a range query, must give the same series and values (within 1e-9 relative) or the same error type.
/// Sample timestamps never fall on whole seconds while evaluation times and windows do not share their millisecond
/// fractions, so the 2.x/3.x change of range boundaries (closed vs left-open) cannot show.
/// </summary>
public sealed class AgreementTests(ITestOutputHelper output) : IAsyncLifetime
{
    private AmphoraProcess _amphora = null!;
    private PrometheusProcess _prometheus = null!;
    private long _evalTime;

    public async Task InitializeAsync()
    {
        _amphora = AmphoraProcess.Start();
        _prometheus = PrometheusProcess.Start("global:\n  scrape_interval: 1m\n", null,
            "--web.enable-remote-write-receiver", "--enable-feature=promql-negative-offset");
        await _amphora.WaitReadyAsync();
        await _prometheus.WaitReadyAsync();

        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long baseTime = now - now % 1000 - 60 * 60_000 + 123;
        var requests = AgreementData.Build(baseTime, out long last);
        _evalTime = last - last % 1000 + 7_789;
        using var amphoraWriter = new RemoteWriteClient(_amphora.BaseAddress);
        using var prometheusWriter = new RemoteWriteClient(_prometheus.BaseAddress);
        foreach (var request in requests)
        {
            var a = await amphoraWriter.PushAsync("agreement", request);
            Assert.True(a.Status == HttpStatusCode.NoContent, $"amphora refused the data: {a.Status} {a.Body}");
            var p = await prometheusWriter.PostAsync("/api/v1/write", null, IronSnappy.Snappy.Encode(request.Encode()));
            Assert.True(p.Status == HttpStatusCode.NoContent, $"prometheus refused the data: {p.Status} {p.Body}");
        }
    }

    public async Task DisposeAsync()
    {
        _prometheus.Dispose();
        await _amphora.TerminateAsync(TimeSpan.FromSeconds(30));
        _amphora.Dispose();
    }

    [Fact]
    public async Task Every_query_agrees_with_prometheus_as_instant_and_range_query()
    {
        var queries = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "PromQL", "agreement-queries.txt"))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.True(queries.Distinct().Count() >= 200, $"only {queries.Distinct().Count()} distinct queries");
        using var amphora = new PromApiClient(_amphora.BaseAddress, "/prometheus/api/v1", "agreement");
        using var prometheus = new PromApiClient(_prometheus.BaseAddress);
        string time = Seconds(_evalTime), start = Seconds(_evalTime - 30 * 60_000);
        var failures = new List<string>();
        int compared = 0;
        foreach (var query in queries)
        {
            var instant = new[] { ("query", query), ("time", time) };
            var range = new[] { ("query", query), ("start", start), ("end", time), ("step", "37") };
            foreach (var (path, parameters) in new[] { ("query", instant), ("query_range", range) })
            {
                var a = await amphora.PostFormAsync(path, parameters);
                var p = await prometheus.PostFormAsync(path, parameters);
                compared++;
                if (Difference(query, a, p) is { } difference) failures.Add($"{path} {query}: {difference}");
            }
        }
        output.WriteLine($"{compared} evaluations compared, {failures.Count} differ");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static string Seconds(long ms) => (ms / 1000.0).ToString("0.000", CultureInfo.InvariantCulture);

    private static string? Difference(string query, PromApiClient.Response a, PromApiClient.Response p)
    {
        var aj = a.Json;
        var pj = p.Json;
        string aStatus = aj.GetProperty("status").GetString()!, pStatus = pj.GetProperty("status").GetString()!;
        if (aStatus != pStatus) return $"amphora {aStatus} ({a.Body}) vs prometheus {pStatus} ({p.Body})";
        if (aStatus == "error")
        {
            string at = aj.GetProperty("errorType").GetString()!, pt = pj.GetProperty("errorType").GetString()!;
            return at == pt ? null : $"error type {at} vs {pt}: {a.Body} / {p.Body}";
        }
        var ad = aj.GetProperty("data");
        var pd = pj.GetProperty("data");
        string type = pd.GetProperty("resultType").GetString()!;
        if (ad.GetProperty("resultType").GetString() != type) return $"result type {ad.GetProperty("resultType")} vs {type}";
        if (type is "scalar" or "string") return SamePoint(ad.GetProperty("result"), pd.GetProperty("result")) ? null : $"{ad} vs {pd}";
        bool ordered = query.StartsWith("sort", StringComparison.Ordinal) && type == "vector";
        var aSeries = Series(ad.GetProperty("result"), type);
        var pSeries = Series(pd.GetProperty("result"), type);
        if (ordered && !aSeries.Select(s => s.Key).SequenceEqual(pSeries.Select(s => s.Key)))
            return $"order differs: {string.Join(" ", aSeries.Select(s => s.Key))} vs {string.Join(" ", pSeries.Select(s => s.Key))}";
        var aMap = aSeries.ToDictionary(s => s.Key, s => s.Points);
        var pMap = pSeries.ToDictionary(s => s.Key, s => s.Points);
        var missing = pMap.Keys.Except(aMap.Keys).ToList();
        var extra = aMap.Keys.Except(pMap.Keys).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            return $"series differ: missing [{string.Join(" ", missing.Take(3))}] extra [{string.Join(" ", extra.Take(3))}] ({aMap.Count} vs {pMap.Count})";
        foreach (var (key, points) in pMap)
        {
            var other = aMap[key];
            if (other.Count != points.Count) return $"{key}: {other.Count} points vs {points.Count}";
            for (int i = 0; i < points.Count; i++)
            {
                if (other[i].T != points[i].T) return $"{key}: point {i} at {other[i].T} vs {points[i].T}";
                if (!Close(other[i].V, points[i].V)) return $"{key}: point {i} value {other[i].V} vs {points[i].V}";
            }
        }
        return null;
    }

    private static List<(string Key, List<(string T, double V)> Points)> Series(JsonElement result, string type)
    {
        var list = new List<(string, List<(string, double)>)>();
        foreach (var s in result.EnumerateArray())
        {
            var labels = s.GetProperty("metric").EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal)
                .Select(p => $"{p.Name}={p.Value.GetString()}");
            string key = "{" + string.Join(",", labels) + "}";
            var points = type == "vector"
                ? new List<(string, double)> { Point(s.GetProperty("value")) }
                : s.GetProperty("values").EnumerateArray().Select(Point).ToList();
            list.Add((key, points));
        }
        return list;
    }

    private static (string T, double V) Point(JsonElement p) => (p[0].GetRawText(), ParseValue(p[1].GetString()!));

    /// <summary>Prometheus's value strings: Go float formatting with "+Inf", "-Inf" and "NaN".</summary>
    private static double ParseValue(string s) => s switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(s, CultureInfo.InvariantCulture),
    };

    private static bool SamePoint(JsonElement a, JsonElement p) =>
        a[0].GetRawText() == p[0].GetRawText() &&
        (a[1].ValueKind == JsonValueKind.String && p[1].ValueKind == JsonValueKind.String &&
         (a[1].GetString() == p[1].GetString() || Close(ParseValue(a[1].GetString()!), ParseValue(p[1].GetString()!))));

    private static bool Close(double a, double b)
    {
        if (double.IsNaN(a) || double.IsNaN(b)) return double.IsNaN(a) && double.IsNaN(b);
        if (a == b) return true;
        return Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));
    }
}
