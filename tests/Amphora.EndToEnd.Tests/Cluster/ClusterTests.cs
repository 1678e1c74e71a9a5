using System.Net;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Cluster;

/// <summary>
/// Three ingesters, a distributor and a querier as separate processes talking gRPC, replication factor 3: queries give the
/// single-process answers; losing one ingester loses no data and stops neither writes nor queries; losing two stops writes
/// with a 5xx (the sender retries) instead of a silent partial success.
/// </summary>
public sealed class ClusterTests : IAsyncLifetime
{
    private static readonly long Start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 20 * 60_000;
    private LocalCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await LocalCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static WriteRequestBuilder Batch(int minute)
    {
        var request = new WriteRequestBuilder();
        for (int s = 0; s < 60; s++)
        {
            string labels = $"__name__=\"cluster_requests_total\",instance=\"i{s % 6}\",job=\"j{s % 3}\",path=\"/p{s}\"";
            var sample = (Start + minute * 60_000L + 17, minute * 10.0 + s);
            // Every tenth series carries an exemplar: replicated with it, stored by each of its ingesters, served once. Half of
            // them come in a TimeSeries of their own without samples, as Prometheus sends them.
            string exemplar = $"trace_id=\"t{minute:00}{s:00}\"";
            if (s % 20 == 0) request.SeriesWithExemplar(labels, sample, exemplar, s + 0.5, Start + minute * 60_000L + 11);
            else if (s % 20 == 10) request.Series(labels, sample).ExemplarOnly(labels, exemplar, s + 0.5, Start + minute * 60_000L + 11);
            else request.Series(labels, sample);
        }
        request.Metadata(1, "cluster_requests_total", "Requests served.");
        return request;
    }

    private static readonly string[] Queries =
    [
        "cluster_requests_total", "sum by (job) (rate(cluster_requests_total[5m]))", "count(cluster_requests_total)",
        "topk(3, cluster_requests_total)", "max_over_time(cluster_requests_total[10m])",
    ];

    [Fact]
    public async Task Replicated_writes_give_the_single_process_answers_and_survive_losing_an_ingester()
    {
        using var distributor = new RemoteWriteClient(_cluster.Distributor.BaseAddress);
        using var single = new RemoteWriteClient(_cluster.Single.BaseAddress);
        for (int minute = 0; minute < 10; minute++)
        {
            var d = await distributor.PushAsync("cluster", Batch(minute));
            Assert.True(d.Status == HttpStatusCode.NoContent, $"distributor: {d.Status} {d.Body}\n{_cluster.Distributor.Output}");
            Assert.Equal(HttpStatusCode.NoContent, (await single.PushAsync("cluster", Batch(minute))).Status);
        }
        await AssertSameAnswersAsync(Start + 10 * 60_000);

        // SIGKILL one ingester: writes keep reaching a quorum, queries read the two replicas left.
        _cluster.Ingesters[1].Kill();
        for (int minute = 10; minute < 15; minute++)
        {
            var d = await distributor.PushAsync("cluster", Batch(minute));
            Assert.True(d.Status == HttpStatusCode.NoContent, $"with one ingester down: {d.Status} {d.Body}");
            Assert.Equal(HttpStatusCode.NoContent, (await single.PushAsync("cluster", Batch(minute))).Status);
        }
        await AssertSameAnswersAsync(Start + 15 * 60_000);

        // A second ingester lost: no quorum, so no acknowledgement; queries say unavailable instead of answering partially.
        _cluster.Ingesters[2].Kill();
        await Task.Delay(1500);
        var refused = await distributor.PushAsync("cluster", Batch(15));
        Assert.True((int)refused.Status >= 500, $"expected a 5xx without a quorum, got {refused.Status} {refused.Body}");
        using var api = new PromApiClient(_cluster.Querier.BaseAddress, "/prometheus/api/v1", "cluster");
        var unavailable = await api.QueryAsync("count(cluster_requests_total)", Start + 15 * 60_000);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.Status);
        Assert.Contains("\"errorType\":\"unavailable\"", unavailable.Body);
    }

    private async Task AssertSameAnswersAsync(long at)
    {
        using var cluster = new PromApiClient(_cluster.Querier.BaseAddress, "/prometheus/api/v1", "cluster");
        using var reference = new PromApiClient(_cluster.Single.BaseAddress, "/prometheus/api/v1", "cluster");
        foreach (var q in Queries)
        {
            var c = await cluster.QueryAsync(q, at);
            var r = await reference.QueryAsync(q, at);
            Assert.True(r.Status == HttpStatusCode.OK, r.Body);
            Assert.True(LocalCluster.Normalize(c.Body) == LocalCluster.Normalize(r.Body), $"{q}\n cluster {c.Body}\n single  {r.Body}");
            var cr = await cluster.GetAsync("query_range", ("query", q), ("start", PromApiClient.FormatTime(at - 600_000)),
                ("end", PromApiClient.FormatTime(at)), ("step", "30"));
            var rr = await reference.GetAsync("query_range", ("query", q), ("start", PromApiClient.FormatTime(at - 600_000)),
                ("end", PromApiClient.FormatTime(at)), ("step", "30"));
            Assert.True(cr.Body == rr.Body, $"range {q}\n cluster {cr.Body}\n single  {rr.Body}");
        }
        var series = await cluster.GetAsync("series", ("match[]", "cluster_requests_total"));
        Assert.Equal((await reference.GetAsync("series", ("match[]", "cluster_requests_total"))).Body, series.Body);
        Assert.Equal((await reference.GetAsync("labels")).Body, (await cluster.GetAsync("labels")).Body);
        Assert.Equal((await reference.GetAsync("metadata")).Body, (await cluster.GetAsync("metadata")).Body);
        // Exemplars: the replicas' copies merged into one each, as the single process answers (which holds each once).
        var window = new[] { ("query", "cluster_requests_total"), ("start", PromApiClient.FormatTime(Start)), ("end", PromApiClient.FormatTime(at)) };
        var exemplars = await cluster.GetAsync("query_exemplars", window);
        Assert.True(exemplars.Status == HttpStatusCode.OK, exemplars.Body);
        Assert.Contains("\"trace_id\":\"t0000\"", exemplars.Body);
        Assert.Contains("\"trace_id\":\"t0010\"", exemplars.Body);
        Assert.Equal((await reference.GetAsync("query_exemplars", window)).Body, exemplars.Body);
    }
}
