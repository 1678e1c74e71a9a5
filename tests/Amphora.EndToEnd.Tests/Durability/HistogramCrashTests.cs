using System.Net;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.Model;
using Amphora.Tsdb;
using Amphora.Tsdb.Blocks;
using Amphora.Tsdb.Wal;
using Xunit;
using Xunit.Abstractions;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.EndToEnd.Tests.Durability;

/// <summary>
/// Native histograms remote-written to <c>amphora --target=all</c> are stored: every histogram of a request that got 204 is,
/// after SIGKILL and a restart that replays the WAL and cuts blocks, in the workspace's blocks or its WAL with the counts sent,
/// and PromQL's histogram_count reads the last one back.
/// </summary>
public sealed class HistogramCrashTests(ITestOutputHelper output)
{
    private static Histogram At(int i) => new()
    {
        Schema = 0,
        ZeroThreshold = Math.ScaleB(1, -128),
        ZeroCount = (ulong)(i % 3),
        Count = (ulong)(i + 1 + 2 * i + i % 3),
        Sum = i * 0.5,
        PositiveSpans = [new HistogramSpan(0, 2)],
        PositiveBuckets = Histogram.Deltas([i + 1, 2 * i]),
        CounterResetHint = i % 50 == 0 ? CounterResetHint.CounterReset : CounterResetHint.Unknown,
    };

    private static WriteRequestBuilder.FloatHistogramWire FloatAt(long t) =>
        new(1, 0.001, 0.5, 2.5 + t % 1000, 0.25, [new HistogramSpan(0, 1)], [2.0 + t % 1000], [], []);

    [Fact]
    public async Task Every_acknowledged_histogram_survives_sigkill_and_is_cut_into_blocks()
    {
        string dataDir = RepoPaths.NewTempDir("amphora-hcrash");
        int port = FreePort.Next();
        string[] flags = ["--tsdb.block-range=1m", "--tsdb.cut-interval=100ms", "--blocks.sync-interval=1s", "--ingester.out-of-order-window=10s",
            "--compactor.block-ranges=1m,5m"];
        long start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 5 * 60_000;
        var acknowledged = new Dictionary<long, Histogram>();
        try
        {
            using (var amphora = AmphoraProcess.Start(dataDir, port, flags))
            {
                await amphora.WaitReadyAsync();
                using var client = new RemoteWriteClient(amphora.BaseAddress);
                for (int r = 0; r < 30; r++)
                {
                    var batch = Enumerable.Range(r * 10, 10).Select(i => (start + i * 1000L, At(i))).ToList();
                    var request = new WriteRequestBuilder().NativeHistograms("__name__=\"req_seconds\",job=\"crash\"",
                        batch.Select(b => (b.Item1, (Histogram?)b.Item2, (WriteRequestBuilder.FloatHistogramWire?)null)).ToArray())
                        .NativeHistograms("__name__=\"req_ratio\",job=\"crashf\"",
                            batch.Select(b => (b.Item1, (Histogram?)null, (WriteRequestBuilder.FloatHistogramWire?)FloatAt(b.Item1))).ToArray());
                    var result = await client.PushAsync("hcrash", request);
                    Assert.True(result.Status == HttpStatusCode.NoContent, $"push {r}: {result.Status} {result.Body}");
                    foreach (var (t, h) in batch) acknowledged[t] = h;
                }
                amphora.Kill();
            }

            using (var restarted = AmphoraProcess.Start(dataDir, port, flags))
            {
                await restarted.WaitReadyAsync();
                string bucket = Path.Combine(dataDir, "bucket", "hcrash");
                await Eventually.HoldsAsync(() => Task.FromResult(Directory.Exists(bucket) && Directory.GetDirectories(bucket).Length >= 2),
                    () => $"blocks in {bucket}:\n{restarted.Output}", TimeSpan.FromSeconds(60));
                // The series is known to the query API after the replay.
                using var api = new PromApiClient(restarted.BaseAddress, "/prometheus/api/v1", "hcrash");
                var series = await api.GetAsync("series", ("match[]", "req_seconds"));
                Assert.Equal(HttpStatusCode.OK, series.Status);
                Assert.Equal("crash", series.Json.GetProperty("data")[0].GetProperty("job").GetString());
                // And PromQL reads them back from the blocks and the head: histogram_count at the last sample.
                long last = start + 299 * 1000L;
                var answer = await api.GetAsync("query", ("query", "histogram_count(req_seconds)"), ("time", PromApiClient.FormatTime(last)));
                Assert.Equal(HttpStatusCode.OK, answer.Status);
                var result = answer.Json.GetProperty("data").GetProperty("result");
                Assert.True(result.GetArrayLength() == 1, answer.Json.ToString());
                Assert.Equal(At(299).Count.ToString(System.Globalization.CultureInfo.InvariantCulture), result[0].GetProperty("value")[1].GetString());
                await restarted.TerminateAsync(TimeSpan.FromSeconds(30));
            }

            var stored = new Dictionary<long, Histogram>();
            var storedFloat = new HashSet<(long T, double Count)>();
            // Blocks uploaded to the bucket and blocks still on the ingester's disk.
            var blockDirs = Directory.GetFiles(dataDir, "meta.json", SearchOption.AllDirectories).Select(Path.GetDirectoryName)
                .Where(d => !Path.GetFileName(d)!.Contains('.')).ToList();
            output.WriteLine(string.Join("\n", blockDirs.Select(d => Path.GetRelativePath(dataDir, d!))));
            foreach (var dir in blockDirs)
            {
                var block = await Block.OpenAsync(new LocalBlockFiles(dir!));
                using var q = new BlocksQuerier([block], long.MinValue, long.MaxValue);
                var set = await q.SelectAsync(true, null, [LabelMatcher.Equal("job", "crash")]);
                while (set.Next())
                {
                    var it = (ChunkSequenceIterator)set.At().Iterator();
                    while (it.Next() == ValueType.Histogram) stored[it.AtT()] = it.AtHistogram();
                    Assert.Null(it.Err);
                }
                var floatSet = await q.SelectAsync(true, null, [LabelMatcher.Equal("job", "crashf")]);
                while (floatSet.Next())
                {
                    var it = floatSet.At().Iterator();
                    while (it.Next() == ValueType.FloatHistogram) storedFloat.Add((it.AtT(), it.AtFloatHistogram().H.Count));
                    Assert.Null(it.Err);
                }
            }
            int inBlocks = stored.Count;
            WalReader.Replay(Directory.GetDirectories(dataDir, "wal", SearchOption.AllDirectories).Single(), (type, payload) =>
            {
                if (type == WalRecordType.FloatHistogramSamples)
                    foreach (var s in WalHistogramRecords.DecodeFloat(payload).Samples) storedFloat.Add((s.T, s.H.Count));
                if (type != WalRecordType.HistogramSamples) return;
                foreach (var s in WalHistogramRecords.Decode(payload).Samples) stored.TryAdd(s.T, s.H);
            }, repair: false);
            output.WriteLine($"{acknowledged.Count} acknowledged; {inBlocks} in blocks, {stored.Count - inBlocks} more in the WAL");
            Assert.True(inBlocks > 0, "no histogram reached a block");
            foreach (var (t, h) in acknowledged)
            {
                Assert.True(stored.TryGetValue(t, out var got), $"the histogram at {t} was acknowledged and lost");
                Assert.Equal(h.Count, got!.Count);
                Assert.Equal(h.Sum, got.Sum);
                Assert.Equal(Histogram.Absolute(h.PositiveBuckets), Histogram.Absolute(got.PositiveBuckets));
                Assert.True(storedFloat.Contains((t, FloatAt(t).Count)), $"the float histogram at {t} was acknowledged and lost");
            }
        }
        finally
        {
            try { Directory.Delete(dataDir, true); } catch (IOException) { }
        }
    }
}
