using System.Collections.Concurrent;
using System.Net;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Amphora.EndToEnd.Tests.Durability;

/// <summary>
/// Nothing acknowledged is lost: concurrent writers push to amphora, the process is killed with SIGKILL at a random moment,
/// restarted on the same data dir, and every sample of every request that got 204 must be returned by a query. Five rounds.
/// Blocks are one minute long and sample time runs 60 times faster than the test's clock (whatever the writers' pace, so a
/// slow or loaded machine cuts as many blocks as a fast one), so blocks are cut, uploaded, compacted and the WAL
/// checkpointed while the writers run; two rounds are killed right after a block was written, before the head, WAL and
/// bucket have caught up.
/// </summary>
public sealed class CrashSafetyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_acknowledged_sample_survives_sigkill()
    {
        string dataDir = RepoPaths.NewTempDir("amphora-crash");
        int port = FreePort.Next();
        var acknowledged = new ConcurrentBag<(string Series, long T, double V)>();
        var random = new Random(7);
        const int writerCount = 4, speedUp = 60;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long baseTime = now - 3 * 3600_000;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Each writer's newest timestamp, across rounds: a writer's samples only move forward, also past a request that was
        // in flight at a kill (it may have been stored without being acknowledged).
        var newest = new long[writerCount];
        long counter = 0;
        try
        {
            for (int round = 0; round < 5; round++)
            {
                using var amphora = AmphoraProcess.Start(dataDir, port, "--tsdb.block-range=1m", "--tsdb.cut-interval=100ms",
                    "--ingester.out-of-order-window=10s", "--blocks.sync-interval=1s", "--compactor.block-ranges=1m,5m", "--compactor.interval=1s");
                await amphora.WaitReadyAsync();
                using var stop = new CancellationTokenSource();
                var writers = Enumerable.Range(0, writerCount).Select(w => Task.Run(async () =>
                {
                    using var client = new RemoteWriteClient(amphora.BaseAddress);
                    while (!stop.IsCancellationRequested)
                    {
                        long n = Interlocked.Increment(ref counter);
                        long t = Math.Max(newest[w] + 1, Math.Min(baseTime + clock.ElapsedMilliseconds * speedUp, now - 60_000));
                        newest[w] = t;
                        var samples = Enumerable.Range(0, 5).Select(s => ($"crash_series{{writer=\"{w}\",s=\"{s}\"}}", t, (double)n)).ToList();
                        var request = new WriteRequestBuilder();
                        for (int s = 0; s < 5; s++) request.Series($"__name__=\"crash_series\",s=\"{s}\",writer=\"{w}\"", (t, n));
                        try
                        {
                            var result = await client.PushAsync("crash", request);
                            if (result.Status == HttpStatusCode.NoContent) foreach (var x in samples) acknowledged.Add(x);
                        }
                        catch (HttpRequestException) { }
                        catch (TaskCanceledException) { }
                    }
                })).ToArray();
                if (round >= 3)
                {
                    // Kill just after a block is written: head truncation, checkpoint and upload have not happened yet.
                    int cutsBefore = CountCuts(amphora.Output);
                    var deadline = DateTime.UtcNow.AddSeconds(20);
                    while (CountCuts(amphora.Output) == cutsBefore && DateTime.UtcNow < deadline) await Task.Delay(1);
                    output.WriteLine($"round {round}: killed {(CountCuts(amphora.Output) > cutsBefore ? "right after a block cut" : "at the deadline")}");
                }
                else
                {
                    await Task.Delay(300 + random.Next(1200));
                }
                amphora.Kill();
                stop.Cancel();
                await Task.WhenAll(writers);
                output.WriteLine($"round {round}: {acknowledged.Count} samples acknowledged so far");
            }

            using var final = AmphoraProcess.Start(dataDir, port);
            await final.WaitReadyAsync();
            using var api = new PromApiClient(final.BaseAddress, "/prometheus/api/v1", "crash");
            // The raw samples: a range selector over everything written, evaluated just after the last write.
            long last = newest.Max();
            var raw = await api.GetAsync("query", ("query", $"crash_series[{(last - baseTime) / 1000 + 10}s]"),
                ("time", PromApiClient.FormatTime(last + 1)));
            Assert.Equal(HttpStatusCode.OK, raw.Status);
            var stored = new HashSet<(string, long, double)>();
            foreach (var series in raw.Json.GetProperty("data").GetProperty("result").EnumerateArray())
            {
                var m = series.GetProperty("metric");
                string key = $"crash_series{{writer=\"{m.GetProperty("writer").GetString()}\",s=\"{m.GetProperty("s").GetString()}\"}}";
                foreach (var p in series.GetProperty("values").EnumerateArray())
                    stored.Add((key, (long)Math.Round(p[0].GetDouble() * 1000), double.Parse(p[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture)));
            }
            var lost = acknowledged.Where(a => !stored.Contains(a)).ToList();
            output.WriteLine($"{acknowledged.Count} acknowledged, {stored.Count} stored, {lost.Count} lost");
            Assert.True(acknowledged.Count > 100, $"too few writes got through to test anything: {acknowledged.Count}");
            Assert.True(lost.Count == 0, $"{lost.Count} acknowledged samples lost, e.g. {string.Join(", ", lost.Take(5))}");
            int blocks = Directory.Exists(Path.Combine(dataDir, "bucket", "crash")) ? Directory.GetDirectories(Path.Combine(dataDir, "bucket", "crash")).Length : 0;
            output.WriteLine($"{blocks} blocks in the bucket");
            Assert.True(blocks >= 2, $"the test should have cut and uploaded blocks; the bucket holds {blocks}");
            await final.TerminateAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            try { Directory.Delete(dataDir, true); } catch (IOException) { }
        }
    }

    private static int CountCuts(string log) => log.Split("Cut block").Length - 1;
}
