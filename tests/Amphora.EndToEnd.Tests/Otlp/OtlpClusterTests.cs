using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Otlp;

/// <summary>
/// OTLP through a cluster: the OpenTelemetry JS exporter sends to a <c>--target=distributor</c> process, which translates and
/// pushes to its ingester over gRPC; a separate querier answers with the translated series.
/// </summary>
public sealed class OtlpClusterTests : IAsyncLifetime
{
    private const string Workspace = "otlp-cluster";
    private AmphoraProcess _ingester = null!, _distributor = null!, _querier = null!;

    public async Task InitializeAsync()
    {
        int grpc = FreePort.Next();
        _ingester = AmphoraProcess.Start(null, null, "--target=ingester", "--ingester.name=ingester-0", $"--grpc.listen=127.0.0.1:{grpc}");
        await _ingester.WaitReadyAsync();
        string[] ring = [$"--ring.members=ingester-0=127.0.0.1:{grpc}", "--ring.replication-factor=1", "--ring.poll-interval=500ms"];
        _distributor = AmphoraProcess.Start(null, null, ["--target=distributor", .. ring]);
        _querier = AmphoraProcess.Start(null, null, ["--target=querier", .. ring]);
        await Task.WhenAll(_distributor.WaitReadyAsync(), _querier.WaitReadyAsync());
    }

    public async Task DisposeAsync()
    {
        foreach (var p in new[] { _distributor, _querier, _ingester })
        {
            if (!p.HasExited) await p.TerminateAsync(TimeSpan.FromSeconds(20));
            p.Dispose();
        }
    }

    [Fact]
    public async Task A_cluster_distributor_takes_otlp_and_the_querier_answers_with_the_translated_series()
    {
        List<string> series = [];
        await Eventually.HoldsAsync(async () =>
        {
            // The distributor answers 503 until its ring poll has seen the ingester; the exporter then reports a failure.
            var (stdout, _) = await OtlpSender.SendAsync(_distributor.BaseAddress, "/otlp/v1/metrics", Workspace, "proto", "cluster");
            return stdout.Contains("exported", StringComparison.Ordinal);
        }, () => "an export the distributor accepts", TimeSpan.FromSeconds(30));
        await Eventually.HoldsAsync(async () =>
                (series = await OtlpSender.QueryAsync(_querier.BaseAddress, Workspace, "{__name__=~\"cluster_.*\"}")).Count == 9,
            () => "the 9 translated series, got: " + string.Join("; ", series), TimeSpan.FromSeconds(30));
        Assert.Contains("cluster_requests_total{http_route=\"/cart\", instance=\"cart-1\", job=\"shop/cart\"} 5", series);
        Assert.Contains("cluster_duration_seconds_bucket{instance=\"cart-1\", job=\"shop/cart\", le=\"+Inf\"} 3", series);
    }
}
