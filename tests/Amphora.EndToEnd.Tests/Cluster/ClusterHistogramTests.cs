using System.Net;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.EndToEnd.Tests.Storage;
using Amphora.Model;
using Xunit;
using static Amphora.EndToEnd.Tests.Harness.WriteRequestBuilder;

namespace Amphora.EndToEnd.Tests.Cluster;

/// <summary>
/// Native histograms through the cluster: remote-written integer and float histograms reach three ingesters (replication
/// factor 3) over gRPC, come back to the querier as histogram chunks, and PromQL over them answers as a single process does
/// on the same data, before and after an ingester is killed.
/// </summary>
public sealed class ClusterHistogramTests : IAsyncLifetime
{
    private const long Step = 30_000;
    private static readonly long Start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / Step * Step - 20 * 60_000;
    private LocalCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await LocalCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    /// <summary>A float counter histogram: schema 0, three buckets growing at different rates.</summary>
    private static FloatHistogramWire Ratio(int k, double scale)
    {
        double[] counts = [0.25 * k * scale, 1.5 * k * scale, 4.25 + 0.5 * k * scale];
        double zero = 0.125 * k;
        return new FloatHistogramWire(0, 0.001, zero, counts.Sum() + zero, 0.75 * k * scale + 2, [new HistogramSpan(0, 3)], counts, [], []);
    }

    /// <summary>Steps [from, to) of two integer histogram series (a new bucket appears at step 10: a layout change) and two
    /// float ones.</summary>
    private static WriteRequestBuilder Batch(int from, int to)
    {
        var request = new WriteRequestBuilder();
        foreach (int job in new[] { 0, 1 })
        {
            request.NativeHistograms($"__name__=\"rpc_seconds\",job=\"j{job}\"", Enumerable.Range(from, to - from)
                .Select(k => (Start + k * Step, (Histogram?)NativeHistogramInteropTests.Counter(90 + k + 3 * job), (FloatHistogramWire?)null)).ToArray());
            request.NativeHistograms($"__name__=\"rpc_ratio\",job=\"j{job}\"", Enumerable.Range(from, to - from)
                .Select(k => (Start + k * Step + 500, (Histogram?)null, (FloatHistogramWire?)Ratio(k, 1 + job))).ToArray());
        }
        return request;
    }

    private static readonly string[] Queries =
    [
        "rpc_seconds", "rpc_ratio", "histogram_count(rate(rpc_seconds[5m]))", "histogram_sum(rate(rpc_seconds[5m]))",
        "histogram_quantile(0.9, rate(rpc_seconds[5m]))", "histogram_quantile(0.5, sum(rate(rpc_ratio[5m])))",
        "histogram_count(rpc_ratio)", "histogram_sum(rpc_seconds)", "histogram_fraction(0, 2, rpc_ratio)",
        "sum by (job) (rate(rpc_seconds[10m]))",
    ];

    [Fact]
    public async Task Integer_and_float_histograms_answer_as_in_a_single_process_and_survive_losing_an_ingester()
    {
        using var distributor = new RemoteWriteClient(_cluster.Distributor.BaseAddress);
        using var single = new RemoteWriteClient(_cluster.Single.BaseAddress);
        for (int from = 0; from < 30; from += 5)
        {
            var d = await distributor.PushAsync("hist", Batch(from, from + 5));
            Assert.True(d.Status == HttpStatusCode.NoContent, $"distributor: {d.Status} {d.Body}\n{_cluster.Distributor.Output}");
            Assert.Equal(HttpStatusCode.NoContent, (await single.PushAsync("hist", Batch(from, from + 5))).Status);
        }
        await AssertSameAnswersAsync(Start + 29 * Step + 1000);

        // SIGKILL one ingester: histograms keep reaching a write quorum, and the two replicas left answer.
        _cluster.Ingesters[1].Kill();
        for (int from = 30; from < 40; from += 5)
        {
            var d = await distributor.PushAsync("hist", Batch(from, from + 5));
            Assert.True(d.Status == HttpStatusCode.NoContent, $"with one ingester down: {d.Status} {d.Body}");
            Assert.Equal(HttpStatusCode.NoContent, (await single.PushAsync("hist", Batch(from, from + 5))).Status);
        }
        await AssertSameAnswersAsync(Start + 39 * Step + 1000);
    }

    private async Task AssertSameAnswersAsync(long at)
    {
        using var cluster = new PromApiClient(_cluster.Querier.BaseAddress, "/prometheus/api/v1", "hist");
        using var reference = new PromApiClient(_cluster.Single.BaseAddress, "/prometheus/api/v1", "hist");
        foreach (var q in Queries)
        {
            var c = await cluster.QueryAsync(q, at);
            var r = await reference.QueryAsync(q, at);
            Assert.True(r.Status == HttpStatusCode.OK, r.Body);
            Assert.True(r.Json.GetProperty("data").GetProperty("result").GetArrayLength() > 0, $"{q} is empty in the single process: {r.Body}");
            Assert.True(LocalCluster.Normalize(c.Body) == LocalCluster.Normalize(r.Body), $"{q}\n cluster {c.Body}\n single  {r.Body}");
            var range = new[] { ("query", q), ("start", PromApiClient.FormatTime(at - 900_000)), ("end", PromApiClient.FormatTime(at)), ("step", "30") };
            var cr = await cluster.GetAsync("query_range", range);
            var rr = await reference.GetAsync("query_range", range);
            Assert.True(cr.Body == rr.Body, $"range {q}\n cluster {cr.Body}\n single  {rr.Body}");
        }
    }
}
