using System.Globalization;
using System.Net;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Storage;

/// <summary>
/// The head GC in the all-in-one server (issue 18): series that stop receiving samples leave the active-series metric and
/// the workspace's series-limit count at the next block cut, without a restart, so new series fit under the limit again;
/// the series that went still answer from the block.
/// </summary>
public sealed class HeadGcProcessTests
{
    private const long M = 60_000;
    private const int Limit = 10;

    [Fact]
    public async Task Series_without_samples_after_a_cut_leave_the_active_series_and_the_series_limit()
    {
        string dataDir = RepoPaths.NewTempDir("amphora-headgc");
        string overrides = Path.Combine(dataDir, "overrides.yml");
        File.WriteAllText(overrides, $"overrides:\n  churn:\n    max_series_per_workspace: {Limit}\n");
        using var amphora = AmphoraProcess.Start(dataDir, null, $"--limits.overrides-file={overrides}", "--tsdb.block-range=1m",
            "--tsdb.cut-interval=200ms", "--compactor.block-ranges=1m", "--ingester.out-of-order-window=0s", "--metrics.per-workspace");
        try
        {
            await amphora.WaitReadyAsync();
            using var writer = new RemoteWriteClient(amphora.BaseAddress);
            using var http = new HttpClient { BaseAddress = amphora.BaseAddress };
            long t0 = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 10 * M) / M * M;

            // The limit is full: nine series that will stop, and one that goes on.
            var first = new WriteRequestBuilder().Series("__name__=\"stays\"", (t0, 0));
            for (int i = 0; i < Limit - 1; i++) first.Series($"__name__=\"goes\",n=\"{i}\"", (t0, i));
            Assert.Equal(HttpStatusCode.NoContent, (await writer.PushAsync("churn", first)).Status);
            var refused = await writer.PushAsync("churn", new WriteRequestBuilder().Series("__name__=\"new\",n=\"early\"", (t0 + 1000, 1)));
            Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
            Assert.Contains("max_series_per_workspace", refused.Body);
            Assert.Equal(Limit, await ActiveSeriesAsync(http));

            // A sample more than 1.5 ranges past t0 makes [t0, t0 + 1m) ready to cut; after it only "stays" has samples.
            Assert.Equal(HttpStatusCode.NoContent,
                (await writer.PushAsync("churn", new WriteRequestBuilder().Series("__name__=\"stays\"", (t0 + 95_000, 1)))).Status);
            double active = double.NaN;
            await Eventually.HoldsAsync(async () => (active = await ActiveSeriesAsync(http)) == 1,
                () => $"amphora_ingester_active_series{{workspace=\"churn\"}} to fall to 1 after the cut; it is {active}\n{amphora.Output}",
                TimeSpan.FromSeconds(30));

            // The nine released series make room for nine others: eight new ones and one that resumes (created again).
            var fresh = new WriteRequestBuilder().Series("__name__=\"goes\",n=\"0\"", (t0 + 100_000, 42));
            for (int i = 0; i < Limit - 2; i++) fresh.Series($"__name__=\"new\",n=\"{i}\"", (t0 + 100_000, i));
            var accepted = await writer.PushAsync("churn", fresh);
            Assert.True(accepted.Status == HttpStatusCode.NoContent, $"{accepted.Status}: {accepted.Body}");
            Assert.Equal(Limit, await ActiveSeriesAsync(http));
            var over = await writer.PushAsync("churn", new WriteRequestBuilder().Series("__name__=\"new\",n=\"late\"", (t0 + 100_000, 1)));
            Assert.Equal(HttpStatusCode.BadRequest, over.Status);

            // The series that left the head answer from the block; the resumed one from the block and the head together.
            using var api = new PromApiClient(amphora.BaseAddress, "/prometheus/api/v1", "churn");
            var gone = await api.GetAsync("query", ("query", "count(goes)"), ("time", PromApiClient.FormatTime(t0 + 30_000)));
            Assert.Contains($"\"value\":[{(t0 + 30_000) / 1000},\"{Limit - 1}\"]", gone.Body);
            var resumed = await api.GetAsync("query", ("query", "goes{n=\"0\"}[2m]"), ("time", PromApiClient.FormatTime(t0 + 100_000)));
            Assert.Contains($"\"values\":[[{t0 / 1000},\"0\"],[{(t0 + 100_000) / 1000},\"42\"]]", resumed.Body);
        }
        finally
        {
            await amphora.TerminateAsync(TimeSpan.FromSeconds(30));
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<double> ActiveSeriesAsync(HttpClient http)
    {
        const string prefix = "amphora_ingester_active_series{workspace=\"churn\"} ";
        foreach (var line in (await http.GetStringAsync("/metrics")).Split('\n'))
            if (line.StartsWith(prefix, StringComparison.Ordinal))
                return double.Parse(line[prefix.Length..].Trim(), CultureInfo.InvariantCulture);
        return double.NaN;
    }
}
