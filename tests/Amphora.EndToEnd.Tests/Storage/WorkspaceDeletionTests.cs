using System.Net;
using Amphora.Bucket;
using Amphora.Compactor.Tests;
using Amphora.EndToEnd.Tests.Access;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Storage;

/// <summary>
/// Deleting a workspace through the control plane of --target=all: its data stops being served at once, and its blocks and
/// bucket index leave the bucket, while another workspace's blocks stay and answer as before.
/// </summary>
public sealed class WorkspaceDeletionTests
{
    [Fact]
    public async Task A_deleted_workspace_leaves_nothing_in_the_bucket_and_the_other_keeps_its_blocks()
    {
        string dataDir = RepoPaths.NewTempDir("amphora-delete");
        try
        {
            using var amphora = AmphoraProcess.Start(dataDir, null, "--auth=keys", "--tsdb.block-range=1m", "--tsdb.cut-interval=200ms",
                "--ingester.out-of-order-window=10s", "--compactor.block-ranges=1m,10m", "--compactor.interval=500ms",
                "--compactor.consistency-delay=1h", "--blocks.sync-interval=500ms", "--tsdb.local-retention=2s");
            await amphora.WaitReadyAsync();
            var admin = AccessClient.BootstrapKey(dataDir);
            using var client = new AccessClient(amphora.BaseAddress);
            string doomed = await client.CreateWorkspaceAsync(admin, "doomed"), kept = await client.CreateWorkspaceAsync(admin, "kept");

            long t0 = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 30 * 60_000) / 600_000 * 600_000;
            foreach (var workspace in new[] { doomed, kept })
                for (long t = t0; t < t0 + 4 * 60_000; t += 10_000)
                {
                    var request = new WriteRequestBuilder();
                    for (int s = 0; s < 10; s++) request.Series($"__name__=\"deletion_test\",instance=\"i{s}\"", (t, s));
                    var (status, body) = await client.PushAsync(workspace, admin, request);
                    Assert.True(status == HttpStatusCode.NoContent, body);
                }

            var bucket = new FilesystemBucket(Path.Combine(dataDir, "bucket"));
            await Eventually.HoldsAsync(async () => (await TestBlocks.BlocksAsync(bucket, doomed)).Count == 3 && (await TestBlocks.BlocksAsync(bucket, kept)).Count == 3,
                () => "three blocks of each workspace in the bucket");
            await Eventually.HoldsAsync(async () => (await bucket.ListAsync(doomed + "/")).Contains(doomed + "/bucket-index.json"), () => "the compactor's bucket index");

            var (deleted, deleteBody) = await client.SendAsync(HttpMethod.Delete, $"/workspaces/{doomed}", admin);
            Assert.True(deleted == HttpStatusCode.Accepted, $"{deleted} {deleteBody}");
            await Eventually.HoldsAsync(async () => (await bucket.ListAsync(doomed + "/", recursive: true)).Count == 0, () => "the deleted workspace's objects removed");

            Assert.Equal(3, (await TestBlocks.BlocksAsync(bucket, kept)).Count);
            var (status2, body2) = await client.SendAsync(HttpMethod.Get,
                $"/workspaces/{kept}/api/v1/query?query=count(count_over_time(deletion_test[5m]))&time={PromApiClient.FormatTime(t0 + 4 * 60_000)}", admin);
            Assert.True(status2 == HttpStatusCode.OK, body2);
            Assert.Contains("\"10\"", body2);
            await amphora.TerminateAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            try { Directory.Delete(dataDir, true); } catch (IOException) { }
        }
    }
}
