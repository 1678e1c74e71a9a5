using System.Globalization;
using System.Net;
using Amphora.Bucket;
using Amphora.Compactor.Tests;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.Model;
using Amphora.Tsdb.Blocks;
using Xunit;
using Xunit.Abstractions;

namespace Amphora.EndToEnd.Tests.Storage;

/// <summary>
/// The compactor as a process: the blocks three ingesters upload through the real RF=3 write path become one block per
/// range that promtool dumps as exactly the union of the replicas; queries agree before compaction, after it, and after the
/// replicas are deleted; and a compactor killed with SIGKILL during an upload or a deletion loses nothing.
/// </summary>
public sealed class CompactorProcessTests(ITestOutputHelper output)
{
    private const long M = 60_000;

    private static string[] CompactorArgs(string bucketDir, string deletionDelay) =>
    [
        "--target=compactor", $"--blocks.filesystem.dir={bucketDir}", "--tsdb.block-range=1m", "--compactor.block-ranges=1m,10m",
        "--compactor.interval=200ms", "--compactor.consistency-delay=0s", $"--compactor.deletion-delay={deletionDelay}",
        "--compactor.partial-upload-timeout=1s",
    ];

    [Fact]
    public async Task Rf3_replicas_compact_into_one_block_per_range_that_promtool_dumps_as_their_union()
    {
        string bucketDir = RepoPaths.NewTempDir("amphora-rf3-bucket");
        var bucket = new FilesystemBucket(bucketDir);
        var processes = new List<AmphoraProcess>();
        try
        {
            var grpcPorts = new List<int>();
            for (int i = 0; i < 3; i++)
            {
                int grpc = FreePort.Next();
                grpcPorts.Add(grpc);
                processes.Add(AmphoraProcess.Start(null, null, "--target=ingester", $"--ingester.name=ingester-{i}", $"--grpc.listen=127.0.0.1:{grpc}",
                    "--tsdb.block-range=1m", "--tsdb.cut-interval=200ms", "--tsdb.local-retention=1s", "--blocks.sync-interval=500ms",
                    "--ingester.out-of-order-window=10s", $"--blocks.filesystem.dir={bucketDir}"));
            }
            string members = string.Join(",", grpcPorts.Select((p, i) => $"ingester-{i}=127.0.0.1:{p}"));
            foreach (var ingester in processes) await ingester.WaitReadyAsync();
            var distributor = AmphoraProcess.Start(null, null, "--target=distributor", $"--ring.members={members}", "--ring.poll-interval=500ms");
            var querier = AmphoraProcess.Start(null, null, "--target=querier", $"--ring.members={members}", "--ring.poll-interval=500ms",
                $"--blocks.filesystem.dir={bucketDir}", "--blocks.sync-interval=500ms");
            processes.Add(distributor);
            processes.Add(querier);
            await Task.WhenAll(distributor.WaitReadyAsync(), querier.WaitReadyAsync());

            // Aligned to the 10-minute range, so the three 1-minute ranges are compacted per range and not yet together.
            long t0 = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 30 * M) / (10 * M) * (10 * M), end = t0 + 4 * M;
            using (var client = new RemoteWriteClient(distributor.BaseAddress))
                for (long t = t0; t < end; t += 5_000)
                {
                    var request = new WriteRequestBuilder();
                    for (int s = 0; s < 30; s++) request.Series($"__name__=\"rf3_metric\",instance=\"i{s}\",job=\"j{s % 3}\"", (t, s * 10 + t / 5_000 % 100));
                    var result = await client.PushAsync("rf3", request);
                    Assert.True(result.Status == HttpStatusCode.NoContent, result.Body);
                }

            // Each ingester cuts [t0, t0+1m), [+1m, +2m) and [+2m, +3m) and uploads them: nine blocks.
            await WaitForAsync(async () => (await TestBlocks.BlocksAsync(bucket, "rf3")).Count == 9, "nine replica blocks in the bucket");
            var inputs = await TestBlocks.BlocksAsync(bucket, "rf3");
            Assert.Equal(3, inputs.Select(b => b.Amphora!.Ingester).Distinct().Count());
            var union = await TestBlocks.ReadAsync(bucket, "rf3");
            Assert.Equal(30, union.Count);
            double singleCopy = BytesPerSample(bucketDir, inputs.Where(b => b.Amphora!.Ingester == "ingester-0"));

            using var api = new PromApiClient(querier.BaseAddress, "/prometheus/api/v1", "rf3");
            (string, (string, string)[])[] queries =
            [
                ("query", [("query", "rf3_metric[4m]"), ("time", PromApiClient.FormatTime(end))]),
                ("query_range", [("query", "sum by (job) (rate(rf3_metric[1m]))"), ("start", PromApiClient.FormatTime(t0)), ("end", PromApiClient.FormatTime(end)), ("step", "15")]),
                ("query_range", [("query", "count(rf3_metric)"), ("start", PromApiClient.FormatTime(t0)), ("end", PromApiClient.FormatTime(end)), ("step", "30")]),
            ];
            await Task.Delay(1500); // ingesters' local copies are gone; the querier has listed the bucket
            var before = await AnswersAsync(api, queries);

            using var compactor = AmphoraProcess.Start(null, null, CompactorArgs(bucketDir, "4s"));
            await compactor.WaitReadyAsync();
            await WaitForAsync(async () => (await TestBlocks.BlocksAsync(bucket, "rf3")).Count(b => b.Compaction.Level == 2) == 3, "three compacted blocks");
            var outputs = (await TestBlocks.BlocksAsync(bucket, "rf3")).Where(b => b.Compaction.Level == 2).ToList();
            double compacted = BytesPerSample(bucketDir, outputs);
            output.WriteLine($"bytes per sample: one replica {singleCopy:F3}, after compacting three {compacted:F3} ({compacted / singleCopy:F3}x)");
            Assert.True(compacted <= singleCopy * 1.10, $"compacted {compacted:F3} bytes/sample vs one copy {singleCopy:F3}");

            // promtool reads each compacted block: every sample of the union exactly once.
            string promDir = RepoPaths.NewTempDir("amphora-rf3-promtool");
            Directory.CreateDirectory(Path.Combine(promDir, "wal"));
            foreach (var b in outputs) CopyDirectory(Path.Combine(bucketDir, "rf3", b.Ulid), Path.Combine(promDir, b.Ulid));
            var dumped = Amphora.Tsdb.Tests.Blocks.BlockTestData.ParseDump(Amphora.Tsdb.Tests.Blocks.BlockTestData.Promtool("tsdb", "dump", promDir));
            Directory.Delete(promDir, recursive: true);
            Assert.Equal(union.Count, dumped.Count);
            foreach (var (labels, samples) in union)
            {
                var got = dumped[Amphora.Tsdb.Tests.Blocks.BlockTestData.DumpKey(labels)];
                Assert.Equal(got.Count, got.Select(s => s.T).Distinct().Count());
                Assert.Equal(samples, got);
            }

            await Task.Delay(1000);
            Assert.Equal(before, await AnswersAsync(api, queries));
            await WaitForAsync(async () => (await TestBlocks.BlocksAsync(bucket, "rf3")).Count == 3, "the replicas deleted after the deletion delay", compactor);
            await Task.Delay(1000);
            Assert.Equal(before, await AnswersAsync(api, queries));
            await compactor.TerminateAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            foreach (var p in processes)
            {
                if (!p.HasExited) await p.TerminateAsync(TimeSpan.FromSeconds(20));
                p.Dispose();
            }
            try { Directory.Delete(bucketDir, true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task A_compactor_killed_during_upload_or_deletion_loses_nothing_and_the_next_run_finishes()
    {
        string bucketDir = RepoPaths.NewTempDir("amphora-kill-bucket");
        var bucket = new FilesystemBucket(bucketDir);
        try
        {
            long t0 = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60 * M) / (10 * M) * (10 * M);
            var expected = new SortedDictionary<Labels, List<(long T, double V)>>();
            var inputs = new HashSet<string>(StringComparer.Ordinal);
            for (int range = 0; range < 8; range++)
            {
                long from = t0 + range * M;
                var data = TestBlocks.Data(400, from, from + M);
                foreach (var (l, s) in data) { if (!expected.TryGetValue(l, out var list)) expected[l] = list = new(); list.AddRange(s); }
                for (int replica = 0; replica < 3; replica++)
                    inputs.Add((await TestBlocks.UploadAsync(bucket, "kill", data, from, from + M, $"ingester-{replica}")).Ulid);
            }
            string workspaceDir = Path.Combine(bucketDir, "kill");

            // Where to kill: a new block directory without meta.json (an upload), right after a compaction was logged
            // (uploaded, inputs perhaps not marked), an input directory that lost its meta.json (a deletion), then anywhere.
            var triggers = new (string Name, Func<AmphoraProcess, bool> When)[]
            {
                ("during an upload", _ => Directory.GetDirectories(workspaceDir).Any(d => !inputs.Contains(Path.GetFileName(d)) && !File.Exists(Path.Combine(d, "meta.json")))),
                ("after an upload", p => p.Output.Contains("Compacted workspace", StringComparison.Ordinal)),
                ("during a deletion", p => p.Output.Contains("Deleted block", StringComparison.Ordinal) ||
                    Directory.GetDirectories(workspaceDir).Any(d => inputs.Contains(Path.GetFileName(d)) && !File.Exists(Path.Combine(d, "meta.json")))),
                ("at random", _ => false),
                ("at random", _ => false),
            };
            var random = new Random(11);
            foreach (var (name, when) in triggers)
            {
                using var compactor = AmphoraProcess.Start(null, null, CompactorArgs(bucketDir, "1s"));
                var deadline = DateTime.UtcNow.AddMilliseconds(name == "at random" ? 200 + random.Next(1500) : 20_000);
                bool hit = false;
                while (DateTime.UtcNow < deadline && !(hit = when(compactor))) await Task.Delay(1);
                Assert.False(compactor.HasExited, $"the compactor exited by itself: {compactor.Output}");
                compactor.Kill();
                await compactor.WaitForExitAsync();
                output.WriteLine($"killed {name}{(hit || name == "at random" ? "" : " (deadline: the moment did not come)")}");
                TestBlocks.AssertSame(expected, await TestBlocks.ReadAsync(bucket, "kill"));
            }

            using (var compactor = AmphoraProcess.Start(null, null, CompactorArgs(bucketDir, "1s")))
            {
                await WaitForAsync(async () =>
                {
                    var blocks = await TestBlocks.BlocksAsync(bucket, "kill");
                    var directories = (await bucket.ListAsync("kill/")).Where(e => e.EndsWith('/')).ToList();
                    bool marks = (await bucket.ListAsync("kill/", recursive: true)).Any(n => n.EndsWith("/deletion-mark.json", StringComparison.Ordinal));
                    return !marks && directories.Count == 8 && blocks.Count == 8 && blocks.All(b => b.Compaction.Level >= 2);
                }, () => "eight compacted blocks and nothing else; the bucket holds:\n" + string.Join("\n", bucket.ListAsync("kill/", recursive: true).Result), compactor);
                await compactor.TerminateAsync(TimeSpan.FromSeconds(20));
            }
            TestBlocks.AssertSame(expected, await TestBlocks.ReadAsync(bucket, "kill"));
        }
        finally
        {
            try { Directory.Delete(bucketDir, true); } catch (IOException) { }
        }
    }

    private static Task WaitForAsync(Func<Task<bool>> condition, string what, AmphoraProcess? process = null) =>
        WaitForAsync(condition, () => what, process);

    private static Task WaitForAsync(Func<Task<bool>> condition, Func<string> what, AmphoraProcess? process = null) =>
        Eventually.HoldsAsync(condition, () => what() + (process is null ? "" : "\n" + process.Output));

    private static async Task<List<string>> AnswersAsync(PromApiClient api, (string Path, (string, string)[] Params)[] queries)
    {
        var answers = new List<string>();
        foreach (var (path, query) in queries)
        {
            var response = await api.GetAsync(path, query);
            Assert.True(response.Status == HttpStatusCode.OK, response.Body);
            answers.Add(response.Body);
        }
        return answers;
    }

    private static double BytesPerSample(string bucketDir, IEnumerable<BlockMeta> blocks)
    {
        long bytes = 0, samples = 0;
        foreach (var b in blocks)
        {
            string dir = Path.Combine(bucketDir, "rf3", b.Ulid);
            bytes += new FileInfo(Path.Combine(dir, "index")).Length + Directory.GetFiles(Path.Combine(dir, "chunks")).Sum(f => new FileInfo(f).Length);
            samples += b.Stats.NumSamples;
        }
        return (double)bytes / samples;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
