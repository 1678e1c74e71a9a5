using System.Globalization;
using System.Net;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Cluster;

/// <summary>
/// A query over many series through the querier holds a bounded part of the ingesters' answer at once: the querier merges
/// the three ingesters' QueryStream batches as they arrive, so the most stream bytes it held for a select (its
/// amphora_querier_ingester_stream_peak_bytes) stays about the same at four times the series, while the bytes received grow
/// with the answer; and the answers are the single process's on the same data.
/// </summary>
public sealed class ClusterQueryMemoryTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const int Series = 1500;
    private const int Minutes = 20;
    private static readonly long Start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 60_000 * 60_000 - (Minutes + 2) * 60_000L;
    private LocalCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await LocalCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    /// <summary>One request per 1,500 series of <paramref name="metric"/>, each with a sample a minute.</summary>
    private static IEnumerable<WriteRequestBuilder> Requests(string metric, int series)
    {
        for (int from = 0; from < series; from += 1500)
        {
            var request = new WriteRequestBuilder();
            for (int s = from; s < Math.Min(series, from + 1500); s++)
            {
                var samples = new (long, double)[Minutes];
                for (int m = 0; m < Minutes; m++) samples[m] = (Start + m * 60_000L + s % 1000, m * (s % 17) + s * 0.25);
                request.Series($"__name__=\"{metric}\",group=\"g{s % 10}\",instance=\"host-{s:D5}.example.org:9100\",job=\"node\"", samples);
            }
            yield return request;
        }
    }

    private async Task<(long Peak, long Received)> StreamBytesAsync()
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(_cluster.Querier.BaseAddress, "/metrics"));
        long Value(string name) =>
            text.Split('\n').Where(l => l.StartsWith(name + " ", StringComparison.Ordinal))
                .Select(l => (long)double.Parse(l[(name.Length + 1)..], CultureInfo.InvariantCulture)).SingleOrDefault();
        return (Value("amphora_querier_ingester_stream_peak_bytes_sum"), Value("amphora_querier_ingester_stream_received_bytes_total"));
    }

    [Fact]
    public async Task Four_times_the_series_do_not_make_the_querier_hold_four_times_the_stream_bytes_and_the_answers_are_the_single_processes()
    {
        using var distributor = new RemoteWriteClient(_cluster.Distributor.BaseAddress);
        using var single = new RemoteWriteClient(_cluster.Single.BaseAddress);
        foreach (var (metric, n) in new[] { ("mem_small", Series), ("mem_large", 4 * Series) })
            foreach (var request in Requests(metric, n))
            {
                var d = await distributor.PushAsync("memory", request);
                Assert.True(d.Status == HttpStatusCode.NoContent, $"distributor: {d.Status} {d.Body}");
                Assert.Equal(HttpStatusCode.NoContent, (await single.PushAsync("memory", request)).Status);
            }

        using var cluster = new PromApiClient(_cluster.Querier.BaseAddress, "/prometheus/api/v1", "memory");
        using var reference = new PromApiClient(_cluster.Single.BaseAddress, "/prometheus/api/v1", "memory");
        long end = Start + Minutes * 60_000L;
        var measured = new Dictionary<string, (long Peak, long Received)>();
        foreach (var metric in new[] { "mem_small", "mem_large" })
        {
            var before = await StreamBytesAsync();
            var range = new[] { ("query", $"sum by (group) (rate({metric}[5m]))"), ("start", PromApiClient.FormatTime(Start)),
                ("end", PromApiClient.FormatTime(end)), ("step", "60") };
            var c = await cluster.GetAsync("query_range", range);
            var after = await StreamBytesAsync();
            measured[metric] = (after.Peak - before.Peak, after.Received - before.Received);
            var r = await reference.GetAsync("query_range", range);
            Assert.True(r.Status == HttpStatusCode.OK && r.Body.Contains("\"g9\""), r.Body);
            Assert.True(c.Body == r.Body, $"{metric}\n cluster {c.Body}\n single  {r.Body}");
            foreach (var q in new[] { metric, $"count_over_time({metric}[30m])" })
            {
                var ci = await cluster.QueryAsync(q, end);
                Assert.Equal(HttpStatusCode.OK, ci.Status);
                Assert.True(LocalCluster.Normalize(ci.Body) == LocalCluster.Normalize((await reference.QueryAsync(q, end)).Body), $"{q} differs");
            }
        }

        var (small, large) = (measured["mem_small"], measured["mem_large"]);
        output.WriteLine($"{Series} series: held at most {small.Peak} of {small.Received} bytes; {4 * Series}: {large.Peak} of {large.Received}");
        // The answer did grow: three replicas of four times the series came over the wire.
        Assert.True(large.Received > 3.5 * small.Received, $"received {small.Received} then {large.Received} bytes");
        // What was held at once did not: a batch per ingester whichever the size, a small part of the answer.
        Assert.True(small.Peak > 0 && large.Peak < 1.5 * small.Peak, $"held at most {small.Peak} then {large.Peak} bytes");
        Assert.True(large.Peak < large.Received / 8, $"held {large.Peak} of {large.Received} bytes at once");
    }
}
