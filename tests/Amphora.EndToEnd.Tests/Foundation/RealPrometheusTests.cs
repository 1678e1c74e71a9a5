using System.Globalization;
using System.Net;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Foundation;

/// <summary>
/// Debian's Prometheus scrapes itself and a node exporter every second and remote-writes to an amphora process; the same
/// queries through both HTTP APIs must agree.
/// </summary>
public sealed class RealPrometheusTests : IAsyncLifetime
{
    private AmphoraProcess _amphora = null!;
    private NodeExporterProcess _nodeExporter = null!;
    private PrometheusProcess _prometheus = null!;

    public async Task InitializeAsync()
    {
        _amphora = AmphoraProcess.Start();
        _nodeExporter = NodeExporterProcess.Start();
        await _amphora.WaitReadyAsync();
        int promPort = FreePort.Next();
        _prometheus = PrometheusProcess.Start($$"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: prometheus
                static_configs: [{ targets: ['127.0.0.1:{{promPort}}'] }]
              - job_name: node
                static_configs: [{ targets: ['127.0.0.1:{{_nodeExporter.Port}}'] }]
            remote_write:
              - url: http://127.0.0.1:{{_amphora.Port}}/workspaces/e2e/api/v1/remote_write
                queue_config: { batch_send_deadline: 200ms, min_backoff: 50ms, max_backoff: 1s }
                metadata_config: { send: true, send_interval: 2s }
            """, promPort);
        await _prometheus.WaitReadyAsync();
    }

    public async Task DisposeAsync()
    {
        _prometheus.Dispose();
        _nodeExporter.Dispose();
        int code = await _amphora.TerminateAsync(TimeSpan.FromSeconds(30));
        Assert.True(code == 0, $"amphora did not exit cleanly on SIGTERM (exit {code}):\n{_amphora.Output}");
        _amphora.Dispose();
    }

    private PromApiClient Amphora() => new(_amphora.BaseAddress, "/workspaces/e2e/api/v1");
    private PromApiClient Prometheus() => new(_prometheus.BaseAddress);

    [Fact]
    public async Task Up_series_counts_and_rates_agree_with_prometheus_within_30_seconds()
    {
        using var amphora = Amphora();
        using var prometheus = Prometheus();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string lastDifference = "";
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(1000);
            // Evaluate both at the same moment, slightly in the past, so remote write has delivered what Prometheus scraped.
            long t = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3000;
            var upA = Normalize(await amphora.QueryAsync("up", t));
            var upP = Normalize(await prometheus.QueryAsync("up", t));
            var countA = Normalize(await amphora.QueryAsync("count by (job) ({__name__=~\".+\"})", t));
            var countP = Normalize(await prometheus.QueryAsync("count by (job) ({__name__=~\".+\"})", t));
            // A short window: Prometheus's remote-write watcher does not forward samples scraped before it started, so a
            // window reaching back to Prometheus's first scrapes can differ by a sample for reasons outside amphora.
            var rateA = Values(await amphora.QueryAsync("rate(prometheus_http_requests_total[5s])", t));
            var rateP = Values(await prometheus.QueryAsync("rate(prometheus_http_requests_total[5s])", t));
            if (upP.Count < 2 || upA.Count == 0) { lastDifference = $"up: amphora {string.Join(",", upA)} prometheus {string.Join(",", upP)}"; continue; }
            if (!upA.SequenceEqual(upP)) { lastDifference = $"up differs: {string.Join(",", upA)} vs {string.Join(",", upP)}"; continue; }
            if (!countA.SequenceEqual(countP)) { lastDifference = $"count by job differs: {string.Join(",", countA)} vs {string.Join(",", countP)}"; continue; }
            if (rateP.Count == 0 || !RatesAgree(rateA, rateP, out lastDifference)) continue;
            return;
        }
        Assert.Fail($"no agreement within 30 s; last difference: {lastDifference}\namphora output:\n{_amphora.Output}");
    }

    private static bool RatesAgree(Dictionary<string, double> a, Dictionary<string, double> p, out string difference)
    {
        difference = "";
        if (!a.Keys.Order().SequenceEqual(p.Keys.Order()))
        {
            difference = $"rate series differ: {string.Join(";", a.Keys)} vs {string.Join(";", p.Keys)}";
            return false;
        }
        foreach (var (k, pv) in p)
        {
            double av = a[k];
            if (Math.Abs(av - pv) > 0.01 * Math.Abs(pv) && !(av == 0 && pv == 0))
            {
                difference = $"rate of {k}: amphora {av} prometheus {pv}";
                return false;
            }
        }
        return true;
    }

    private static List<string> Normalize(PromApiClient.Response r)
    {
        Assert.True(r.Status == HttpStatusCode.OK, r.Body);
        var list = new List<string>();
        foreach (var s in r.Json.GetProperty("data").GetProperty("result").EnumerateArray())
            list.Add(s.GetProperty("metric").GetRawText() + "=" + s.GetProperty("value")[1].GetString());
        list.Sort(StringComparer.Ordinal);
        return list;
    }

    private static Dictionary<string, double> Values(PromApiClient.Response r)
    {
        Assert.True(r.Status == HttpStatusCode.OK, r.Body);
        var d = new Dictionary<string, double>();
        foreach (var s in r.Json.GetProperty("data").GetProperty("result").EnumerateArray())
            d[s.GetProperty("metric").GetRawText()] = double.Parse(s.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
        return d;
    }

    [Fact]
    public async Task Query_responses_and_errors_are_byte_for_byte_those_of_prometheus()
    {
        using var amphora = Amphora();
        using var prometheus = Prometheus();
        // Wait until both have a few seconds of both jobs' data.
        await WaitForAsync(async () => (await amphora.QueryAsync("count(up)")).Body.Contains("\"2\""), TimeSpan.FromSeconds(30));
        await Task.Delay(3000);
        long t = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 2500 + 0;
        string time = PromApiClient.FormatTime(t);
        string start = PromApiClient.FormatTime(t - 2000);

        var cases = new List<(string Path, (string, string)[] Query)>
        {
            ("query", [("query", "up"), ("time", time)]),
            ("query", [("query", "up{job=\"node\"}[2s]"), ("time", time)]),
            ("query", [("query", "sum by (job) (up)"), ("time", time)]),
            ("query", [("query", "scalar(count(up)) * 1.5"), ("time", time)]),
            ("query", [("query", "\"a<b&c\""), ("time", time)]),
            ("query", [("query", "1e20"), ("time", "1700000000.05")]),
            ("query", [("query", "0.1+0.2"), ("time", "1700000000.123")]),
            ("query", [("query", "-1e-7"), ("time", "2023-11-14T22:13:20.25Z")]),
            ("query", [("query", "1/0"), ("time", "1700000000")]),
            ("query", [("query", "label_replace(up, \"x\", \"$1\", \"job\", \"(.*\")"), ("time", time)]),
            ("query", [("query", "vector(1) + on(a) group_left vector(2)"), ("time", time)]),
            ("query", [("query", "-1/0"), ("time", "1700000000")]),
            ("query", [("query", "0/0"), ("time", "1700000000")]),
            ("query_range", [("query", "up"), ("start", start), ("end", time), ("step", "1")]),
            ("query_range", [("query", "count(up)"), ("start", start), ("end", time), ("step", "0.5")]),
            ("query", [("query", "sum(")]),
            ("query", [("query", "foo{")]),
            ("query", [("query", "rate(up)")]),
            ("query", [("query", "")]),
            ("query", [("query", "up"), ("time", "abc")]),
            ("query", [("query", "up"), ("timeout", "x")]),
            ("query_range", [("query", "up"), ("start", "10"), ("end", "5"), ("step", "1")]),
            ("query_range", [("query", "up"), ("start", "10"), ("end", "50000"), ("step", "1")]),
            ("query_range", [("query", "up"), ("start", "10"), ("end", "50"), ("step", "0")]),
            ("query_range", [("query", "up"), ("start", "x"), ("end", "50"), ("step", "1")]),
            ("query_range", [("query", "up"), ("end", "50"), ("step", "1")]),
            ("series", []),
            ("series", [("match[]", "up{")]),
            ("series", [("match[]", "up"), ("start", start), ("end", time)]),
            ("label/a-b/values", []),
            ("label/job/values", [("start", start), ("end", time)]),
        };
        var mismatches = new List<string>();
        foreach (var (path, query) in cases)
        {
            var a = await amphora.GetAsync(path, query);
            var p = await prometheus.GetAsync(path, query);
            string what = $"{path}?{string.Join('&', query.Select(q => q.Item1 + "=" + q.Item2))}";
            if (a.Status != p.Status || a.Body != p.Body)
                mismatches.Add($"{what}\n  amphora    {(int)a.Status} {a.Body}\n  prometheus {(int)p.Status} {p.Body}");
            var ap = await amphora.PostFormAsync(path, query);
            if (ap.Status != a.Status || ap.Body != a.Body)
                mismatches.Add($"{what} (form POST differs from GET)\n  GET  {a.Body}\n  POST {ap.Body}");
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(250);
        }
        Assert.Fail("condition not met in time");
    }
}
