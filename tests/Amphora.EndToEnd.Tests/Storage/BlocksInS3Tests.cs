using System.Net;
using Amphora.Bucket;
using Amphora.Bucket.Tests;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Amphora.EndToEnd.Tests.Storage;

/// <summary>
/// amphora --target=all with its blocks in a real S3-compatible server (s3rver): data written (some of it out of order)
/// answers the same queries before any block exists and after the head was cut into blocks, uploaded, and the local copies
/// removed, so the answers come from S3 through ranged reads.
/// </summary>
public sealed class BlocksInS3Tests(S3ServerFixture s3, ITestOutputHelper output) : IClassFixture<S3ServerFixture>
{
    private const string Workspace = "s3ws";

    private string[] Args(string prefix, string cutInterval) =>
    [
        "--blocks.storage=s3", $"--blocks.s3.endpoint={s3.Endpoint}", $"--blocks.s3.bucket={S3ServerFixture.BucketName}",
        "--blocks.s3.path-style", $"--blocks.s3.access-key={S3ServerFixture.Key}", $"--blocks.s3.secret-key={S3ServerFixture.Key}",
        $"--blocks.s3.prefix={prefix}", "--tsdb.block-range=1m", $"--tsdb.cut-interval={cutInterval}", "--tsdb.local-retention=2s",
        "--blocks.sync-interval=500ms", "--ingester.out-of-order-window=10s", "--compactor.block-ranges=1m,5m", "--compactor.interval=500ms",
    ];

    [Fact]
    public async Task Queries_answer_the_same_from_the_head_and_from_blocks_in_S3()
    {
        string dataDir = RepoPaths.NewTempDir("amphora-s3");
        string prefix = "e2e-" + Guid.NewGuid().ToString("N");
        int port = FreePort.Next();
        long t0 = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 30 * 60_000) / 60_000 * 60_000;
        long end = t0 + 4 * 60_000;
        var queries = new (string Path, (string, string)[] Params)[]
        {
            ("query", [("query", "s3_test[5m]"), ("time", PromApiClient.FormatTime(end))]),
            ("query_range", [("query", "sum by (job) (rate(s3_test[1m]))"), ("start", PromApiClient.FormatTime(t0)), ("end", PromApiClient.FormatTime(end)), ("step", "15")]),
            ("query_range", [("query", "max_over_time(s3_test{instance=~\"i[1-3]\"}[30s])"), ("start", PromApiClient.FormatTime(t0)), ("end", PromApiClient.FormatTime(end)), ("step", "10")]),
            ("series", [("match[]", "s3_test"), ("start", PromApiClient.FormatTime(t0)), ("end", PromApiClient.FormatTime(end))]),
            ("label/instance/values", [("start", PromApiClient.FormatTime(t0)), ("end", PromApiClient.FormatTime(end))]),
        };
        var before = new List<string>();
        try
        {
            // First run: no cuts, everything answered from the head.
            using (var amphora = AmphoraProcess.Start(dataDir, port, Args(prefix, "1h")))
            {
                await amphora.WaitReadyAsync();
                using var client = new RemoteWriteClient(amphora.BaseAddress);
                for (long t = t0; t < end; t += 10_000)
                {
                    var request = new WriteRequestBuilder();
                    for (int s = 0; s < 20; s++)
                        request.Series($"__name__=\"s3_test\",instance=\"i{s}\",job=\"j{s % 3}\"", (t, s * 100 + t / 10_000 % 50));
                    Assert.Equal(HttpStatusCode.NoContent, (await client.PushAsync(Workspace, request)).Status);
                    if (t > t0)
                    {
                        // Late samples between the last two, inside the out-of-order window.
                        var late = new WriteRequestBuilder();
                        for (int s = 0; s < 20; s += 4) late.Series($"__name__=\"s3_test\",instance=\"i{s}\",job=\"j{s % 3}\"", (t - 5_000, -s));
                        var result = await client.PushAsync(Workspace, late);
                        Assert.True(result.Status == HttpStatusCode.NoContent, result.Body);
                    }
                }
                using var api = new PromApiClient(amphora.BaseAddress, "/prometheus/api/v1", Workspace);
                foreach (var (path, query) in queries)
                {
                    var response = await api.GetAsync(path, query);
                    Assert.True(response.Status == HttpStatusCode.OK, response.Body);
                    before.Add(response.Body);
                }
                Assert.Contains("\"i19\"", before[4]);
                await amphora.TerminateAsync(TimeSpan.FromSeconds(30));
            }

            // Second run: blocks are cut, uploaded to S3 and removed from local disk; the same queries must agree.
            using (var amphora = AmphoraProcess.Start(dataDir, port, Args(prefix, "200ms")))
            {
                await amphora.WaitReadyAsync();
                var bucket = s3.NewBucket(prefix);
                string localBlocks = Path.Combine(dataDir, "blocks", Workspace);
                var deadline = DateTime.UtcNow.AddSeconds(60);
                IReadOnlyList<string> objects = [];
                while (DateTime.UtcNow < deadline)
                {
                    objects = await bucket.ListAsync(Workspace + "/", recursive: true);
                    bool localGone = !Directory.Exists(localBlocks) || Directory.GetDirectories(localBlocks).Length == 0;
                    if (objects.Count(o => o.EndsWith("/meta.json", StringComparison.Ordinal)) == 3 && localGone) break;
                    await Task.Delay(200);
                }
                output.WriteLine(string.Join("\n", objects));
                Assert.Equal(3, objects.Count(o => o.EndsWith("/meta.json", StringComparison.Ordinal)));
                Assert.Equal(3, objects.Count(o => o.EndsWith("/chunks/000001", StringComparison.Ordinal)));
                Assert.Equal(3, objects.Count(o => o.EndsWith("/index", StringComparison.Ordinal)));
                Assert.True(!Directory.Exists(localBlocks) || Directory.GetDirectories(localBlocks).Length == 0,
                    "uploaded blocks should leave local disk after --tsdb.local-retention");
                await Task.Delay(1000); // past the querier's sync interval

                using var api = new PromApiClient(amphora.BaseAddress, "/prometheus/api/v1", Workspace);
                for (int i = 0; i < queries.Length; i++)
                {
                    var response = await api.GetAsync(queries[i].Path, queries[i].Params);
                    Assert.True(response.Status == HttpStatusCode.OK, response.Body);
                    Assert.Equal(before[i], response.Body);
                }
                await amphora.TerminateAsync(TimeSpan.FromSeconds(30));
            }
        }
        finally
        {
            try { Directory.Delete(dataDir, true); } catch (IOException) { }
        }
    }
}
