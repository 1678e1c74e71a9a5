using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Amphora.EndToEnd.Tests.Cluster;

/// <summary>
/// A writer sends continuously through the distributor while an ingester is killed with SIGKILL and restarted on its data
/// dir: writes keep succeeding, queries stay complete, the ingester replays its WAL and rejoins, and every acknowledged
/// sample is returned exactly once. With two ingesters down writes get 5xx and nothing acknowledged is lost.
/// </summary>
public sealed class ClusterResilienceTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<(string Dir, int Http, int Grpc)> _layout = new();
    private readonly AmphoraProcess?[] _ingesters = new AmphoraProcess?[3];
    private AmphoraProcess _distributor = null!;
    private AmphoraProcess _querier = null!;
    private string _members = "";

    public async Task InitializeAsync()
    {
        for (int i = 0; i < 3; i++) _layout.Add((RepoPaths.NewTempDir($"ingester-{i}"), FreePort.Next(), FreePort.Next()));
        for (int i = 0; i < 3; i++) StartIngester(i);
        _members = string.Join(",", _layout.Select((l, i) => $"ingester-{i}=127.0.0.1:{l.Grpc}"));
        foreach (var ingester in _ingesters) await ingester!.WaitReadyAsync();
        _distributor = AmphoraProcess.Start(null, null, "--target=distributor", $"--ring.members={_members}", "--ring.poll-interval=300ms");
        _querier = AmphoraProcess.Start(null, null, "--target=querier", $"--ring.members={_members}", "--ring.poll-interval=300ms");
        await Task.WhenAll(_distributor.WaitReadyAsync(), _querier.WaitReadyAsync());
    }

    private void StartIngester(int i)
    {
        var (dir, http, grpc) = _layout[i];
        _ingesters[i] = AmphoraProcess.Start(dir, http, "--target=ingester", $"--ingester.name=ingester-{i}", $"--grpc.listen=127.0.0.1:{grpc}");
    }

    public async Task DisposeAsync()
    {
        foreach (var p in _ingesters.Append(_distributor).Append(_querier))
        {
            if (p is null) continue;
            if (!p.HasExited) await p.TerminateAsync(TimeSpan.FromSeconds(20));
            p.Dispose();
        }
        foreach (var (dir, _, _) in _layout)
            try { Directory.Delete(dir, true); } catch (IOException) { }
    }

    private sealed class Writer(Uri distributor)
    {
        private readonly RemoteWriteClient _client = new(distributor);
        private long _next = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 10 * 60_000;
        public readonly ConcurrentDictionary<(string Series, long T), double> Acknowledged = new();
        public int Failures;

        public async Task<HttpStatusCode> SendAsync()
        {
            long t = Interlocked.Increment(ref _next);
            var request = new WriteRequestBuilder();
            for (int s = 0; s < 20; s++) request.Series($"__name__=\"resilient\",s=\"{s:D2}\"", (t, t % 1000));
            var result = await _client.PushAsync("resilient", request);
            if (result.Status == HttpStatusCode.NoContent)
                for (int s = 0; s < 20; s++) Acknowledged[($"{s:D2}", t)] = t % 1000;
            else Interlocked.Increment(ref Failures);
            return result.Status;
        }

        public long Last => Interlocked.Read(ref _next);
    }

    private async Task<Dictionary<(string Series, long T), int>> StoredAsync(long at)
    {
        using var api = new PromApiClient(_querier.BaseAddress, "/prometheus/api/v1", "resilient");
        var raw = await api.GetAsync("query", ("query", "resilient[20m]"), ("time", PromApiClient.FormatTime(at)));
        Assert.True(raw.Status == HttpStatusCode.OK, raw.Body + "\nquerier log:\n" + _querier.Output);
        var stored = new Dictionary<(string, long), int>();
        foreach (var series in raw.Json.GetProperty("data").GetProperty("result").EnumerateArray())
        {
            string s = series.GetProperty("metric").GetProperty("s").GetString()!;
            foreach (var p in series.GetProperty("values").EnumerateArray())
            {
                var key = (s, (long)Math.Round(p[0].GetDouble() * 1000));
                stored[key] = stored.GetValueOrDefault(key) + 1;
            }
        }
        return stored;
    }

    [Fact]
    public async Task Writes_and_queries_go_on_through_an_ingester_crash_and_restart_with_every_sample_once()
    {
        var writer = new Writer(_distributor.BaseAddress);
        async Task WriteForAsync(TimeSpan duration)
        {
            var until = DateTime.UtcNow + duration;
            while (DateTime.UtcNow < until) await writer.SendAsync();
        }

        await WriteForAsync(TimeSpan.FromSeconds(1));
        _ingesters[1]!.Kill();
        await WriteForAsync(TimeSpan.FromSeconds(2));
        Assert.True(writer.Failures == 0, $"{writer.Failures} writes failed with one ingester down");

        using (var api = new PromApiClient(_querier.BaseAddress, "/prometheus/api/v1", "resilient"))
        {
            var count = await api.QueryAsync("count(resilient)", writer.Last);
            Assert.Contains("\"20\"", count.Body);
        }

        StartIngester(1);
        await _ingesters[1]!.WaitReadyAsync();
        Assert.Contains("WAL replayed", _ingesters[1]!.Output);
        await Task.Delay(1000); // the ring marks it healthy again on the next polls
        // The distributor logged the loss once and the recovery once (not on every poll), each line naming the process.
        static int Lines(AmphoraProcess p, string text) => p.Output.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));
        await Eventually.HoldsAsync(() => Task.FromResult(Lines(_distributor, "ring member ingester-1 at") >= 2), () => _distributor.Output);
        await Task.Delay(1000); // several more polls, which must not log again
        Assert.Equal(1, Lines(_distributor, "ring member ingester-1 at 127.0.0.1:" + _layout[1].Grpc + " is unreachable"));
        Assert.Equal(1, Lines(_distributor, "ring member ingester-1 at 127.0.0.1:" + _layout[1].Grpc + " is reachable again"));
        Assert.All(_distributor.Output.Split('\n').Where(l => l.Contains(" ring member ", StringComparison.Ordinal)),
            l => Assert.Contains(" distributor/127.0.0.1:" + _distributor.Port + " ", l));
        Assert.All(_ingesters[1]!.Output.Split('\n').Where(l => l.Contains("WAL replayed", StringComparison.Ordinal)),
            l => Assert.Contains(" ingester/ingester-1 ", l));
        await WriteForAsync(TimeSpan.FromSeconds(1));
        Assert.True(writer.Failures == 0, $"{writer.Failures} writes failed");

        var stored = await StoredAsync(writer.Last + 1);
        var missing = writer.Acknowledged.Keys.Where(k => !stored.ContainsKey(k)).ToList();
        var duplicated = stored.Where(kv => kv.Value > 1).ToList();
        output.WriteLine($"{writer.Acknowledged.Count} acknowledged samples, {stored.Count} returned");
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged samples missing, e.g. {string.Join(", ", missing.Take(3))}");
        Assert.True(duplicated.Count == 0, $"{duplicated.Count} samples returned more than once");

        // Two of three down: no quorum, so no acknowledgement — and what was acknowledged before is still there afterwards.
        _ingesters[0]!.Kill();
        _ingesters[2]!.Kill();
        await Task.Delay(700);
        int before = writer.Acknowledged.Count;
        for (int i = 0; i < 5; i++)
        {
            var status = await writer.SendAsync();
            Assert.True((int)status >= 500, $"a write without quorum got {status}");
        }
        Assert.Equal(before, writer.Acknowledged.Count);
        StartIngester(0);
        StartIngester(2);
        await Task.WhenAll(_ingesters[0]!.WaitReadyAsync(), _ingesters[2]!.WaitReadyAsync());
        // The querier uses them again once its ring polls find them (its connections reconnect with a backoff of their own).
        await Eventually.HoldsAsync(async () =>
        {
            using var http = new HttpClient();
            var m = await http.GetStringAsync(new Uri(_querier.BaseAddress, "/metrics"));
            return m.Split('\n').Any(l => l.StartsWith("amphora_ring_members{", StringComparison.Ordinal) && l.EndsWith(" 3", StringComparison.Ordinal) &&
                l.Contains("healthy=\"true\"", StringComparison.OrdinalIgnoreCase) && l.Contains("state=\"ACTIVE\"", StringComparison.Ordinal));
        }, () => "the querier's ring to find all three ingesters healthy again:\n" + _querier.Output, TimeSpan.FromSeconds(30));
        var after = await StoredAsync(writer.Last + 1);
        Assert.All(writer.Acknowledged.Keys, k => Assert.True(after.ContainsKey(k), $"{k} lost"));
    }

    /// <summary>
    /// One ingester stalled (SIGSTOP: its port still accepts connections, nothing answers): writes are answered once the two
    /// others hold each series, from the first request on, so their latency stays near the healthy one instead of waiting for
    /// the ingester call deadline (10 s); after SIGCONT the stalled replica catches up and nothing acknowledged is lost.
    /// </summary>
    [Fact]
    public async Task A_stalled_ingester_does_not_hold_writes_up_and_nothing_is_lost_after_it_resumes()
    {
        var writer = new Writer(_distributor.BaseAddress);
        async Task<List<double>> TimedWritesAsync(int count)
        {
            var ms = new List<double>(count);
            for (int i = 0; i < count; i++)
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var status = await writer.SendAsync();
                ms.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Assert.True(status == HttpStatusCode.NoContent, $"write {i}: {status}\n{_distributor.Output}");
            }
            return ms;
        }
        static double P99(List<double> ms) => ms.Order().ElementAt((int)Math.Ceiling(ms.Count * 0.99) - 1);

        await TimedWritesAsync(20); // warm-up: connections, JIT
        var healthy = await TimedWritesAsync(100);
        var stalledIngester = _ingesters[1]!;
        Signal("STOP", stalledIngester.Pid);
        List<double> stalled;
        try
        {
            stalled = await TimedWritesAsync(100);
        }
        finally
        {
            Signal("CONT", stalledIngester.Pid);
        }
        output.WriteLine($"write latency p99: healthy {P99(healthy):0.0} ms, one ingester stalled {P99(stalled):0.0} ms " +
                         $"(ratio {P99(stalled) / P99(healthy):0.00}); slowest while stalled {stalled.Max():0.0} ms");
        // The old behaviour waited for the stalled replica's deadline (10 s) on every write until the breaker opened. A loaded
        // 2-core machine adds jitter of its own, hence the absolute allowance beside the 2× of the issue.
        Assert.True(stalled.Max() < 2_000, $"a write waited {stalled.Max():0} ms for the stalled ingester");
        Assert.True(P99(stalled) <= Math.Max(2 * P99(healthy), P99(healthy) + 50),
            $"p99 {P99(stalled):0.0} ms with one ingester stalled against {P99(healthy):0.0} ms healthy");

        // Resumed, the stalled ingester takes the pushes that waited for it; every acknowledged sample is there exactly once.
        await Eventually.HoldsAsync(async () =>
        {
            var m = await new HttpClient().GetStringAsync(new Uri(_distributor.BaseAddress, "/metrics"));
            return m.Split('\n').Any(l => l.StartsWith("amphora_distributor_background_pushes ", StringComparison.Ordinal) && l.EndsWith(" 0", StringComparison.Ordinal));
        }, () => "the background pushes to drain", TimeSpan.FromSeconds(40));
        var stored = await StoredAsync(writer.Last + 1);
        Assert.All(writer.Acknowledged.Keys, k => Assert.True(stored.TryGetValue(k, out int n) && n == 1, $"{k}: returned {stored.GetValueOrDefault(k)} times"));
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    [Fact]
    public async Task Prometheus_remote_writing_into_the_distributor_agrees_with_itself_through_the_querier()
    {
        int promPort = FreePort.Next();
        using var prometheus = PrometheusProcess.Start($$"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: prometheus
                static_configs: [{ targets: ['127.0.0.1:{{promPort}}'] }]
            remote_write:
              - url: http://127.0.0.1:{{_distributor.Port}}/workspaces/prom/api/v1/remote_write
                queue_config: { batch_send_deadline: 200ms, min_backoff: 50ms, max_backoff: 1s }
            """, promPort);
        await prometheus.WaitReadyAsync();
        using var amphora = new PromApiClient(_querier.BaseAddress, "/workspaces/prom/api/v1");
        using var reference = new PromApiClient(prometheus.BaseAddress);
        string last = "";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(1000);
            long t = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3000;
            string a = Values(await amphora.QueryAsync("up", t)), p = Values(await reference.QueryAsync("up", t));
            string ac = Values(await amphora.QueryAsync("count({__name__=~\".+\"})", t)), pc = Values(await reference.QueryAsync("count({__name__=~\".+\"})", t));
            var ar = await amphora.QueryAsync("sum(rate(prometheus_http_requests_total[1m]))", t);
            var pr = await reference.QueryAsync("sum(rate(prometheus_http_requests_total[1m]))", t);
            last = $"up {a} vs {p}; count {ac} vs {pc}; rate {Values(ar)} vs {Values(pr)}";
            if (p.Length == 0 || a != p || ac != pc || !RateClose(ar, pr)) continue;
            return;
        }
        Assert.Fail("no agreement within 30 s: " + last);
    }

    private static string Values(PromApiClient.Response r) =>
        string.Join(";", r.Json.GetProperty("data").GetProperty("result").EnumerateArray().Select(e => e.GetProperty("value")[1].GetString()).Order());

    private static bool RateClose(PromApiClient.Response a, PromApiClient.Response p)
    {
        var av = a.Json.GetProperty("data").GetProperty("result").EnumerateArray().Select(e => double.Parse(e.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)).ToList();
        var pv = p.Json.GetProperty("data").GetProperty("result").EnumerateArray().Select(e => double.Parse(e.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)).ToList();
        return av.Count == 1 && pv.Count == 1 && Math.Abs(av[0] - pv[0]) <= 0.01 * Math.Abs(pv[0]);
    }
}
