using System.Globalization;
using System.Net;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Foundation;

/// <summary>
/// Issue 21: a real sender of exemplars. Debian's Prometheus 2.42 with <c>--enable-feature=exemplar-storage</c> scrapes an
/// OpenMetrics exporter whose counter and histogram bucket carry exemplars and remote-writes them
/// (<c>send_exemplars: true</c>) to an amphora process. Prometheus sends a series' exemplars in a TimeSeries of their own,
/// without samples; amphora's <c>/api/v1/query_exemplars</c> must then answer with the exemplars Prometheus's own does.
/// </summary>
public sealed class ScrapedExemplarTests : IAsyncLifetime
{
    private AmphoraProcess _amphora = null!;
    private OpenMetricsExemplarExporter _exporter = null!;
    private PrometheusProcess _prometheus = null!;

    public async Task InitializeAsync()
    {
        _amphora = AmphoraProcess.Start();
        _exporter = OpenMetricsExemplarExporter.Start();
        await _amphora.WaitReadyAsync();
        _prometheus = PrometheusProcess.ScrapingInto(_amphora, "e2e", _exporter.Port, "shop", "send_exemplars: true", "--enable-feature=exemplar-storage");
        await _prometheus.WaitReadyAsync();
    }

    public async Task DisposeAsync()
    {
        _prometheus.Dispose();
        _exporter.Dispose();
        await _amphora.TerminateAsync(TimeSpan.FromSeconds(30));
        _amphora.Dispose();
    }

    private const string Query = "{__name__=~\"checkout_total|checkout_seconds_bucket\"}";

    [Fact]
    public async Task Exemplars_remote_written_by_prometheus_answer_through_amphora_as_through_prometheus()
    {
        using var amphora = new PromApiClient(_amphora.BaseAddress, "/workspaces/e2e/api/v1");
        using var prometheus = new PromApiClient(_prometheus.BaseAddress);
        var window = new[] { ("query", Query), ("start", PromApiClient.FormatTime(DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds())),
            ("end", PromApiClient.FormatTime(DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds())) };
        HashSet<string> stored = [];
        // At least five exemplars of each of the two series.
        await Eventually.HoldsAsync(async () =>
        {
            stored = Exemplars(await amphora.GetAsync("query_exemplars", window));
            return stored.Count(e => e.Contains("\"trace_id\":\"c", StringComparison.Ordinal)) >= 5 &&
                stored.Count(e => e.Contains("\"trace_id\":\"h", StringComparison.Ordinal)) >= 5;
        }, () => $"amphora to store exemplars (scrapes {_exporter.Scrapes}; it has {stored.Count})\n{_prometheus.Output}\n{_amphora.Output}",
            TimeSpan.FromSeconds(60));

        // Prometheus sent only what it stored: amphora's exemplars are all Prometheus's, with their series' labels, and
        // between amphora's first and last one Prometheus has none that amphora lacks.
        var scraped = Exemplars(await prometheus.GetAsync("query_exemplars", window));
        Assert.Empty(stored.Except(scraped));
        double first = stored.Min(Timestamp), last = stored.Max(Timestamp);
        Assert.Empty(scraped.Where(e => Timestamp(e) >= first && Timestamp(e) <= last).Except(stored));
        Assert.Contains(stored, e => e.Contains("\"le\":\"0.5\"", StringComparison.Ordinal) && e.Contains("\"job\":\"shop\"", StringComparison.Ordinal));
    }

    /// <summary>Each exemplar of a query_exemplars answer as one string: its series' labels, its labels, value and timestamp in
    /// milliseconds (the two APIs may print the seconds differently).</summary>
    private static HashSet<string> Exemplars(PromApiClient.Response r)
    {
        Assert.True(r.Status == HttpStatusCode.OK, r.Body);
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var series in r.Json.GetProperty("data").EnumerateArray())
        {
            string labels = Sorted(series.GetProperty("seriesLabels"));
            foreach (var e in series.GetProperty("exemplars").EnumerateArray())
            {
                long ms = (long)Math.Round(e.GetProperty("timestamp").GetDouble() * 1000);
                set.Add($"{labels} {Sorted(e.GetProperty("labels"))} {e.GetProperty("value").GetString()} @{ms}");
            }
        }
        return set;
    }

    private static string Sorted(JsonElement labels) =>
        "{" + string.Join(",", labels.EnumerateObject().OrderBy(l => l.Name, StringComparer.Ordinal).Select(l => $"\"{l.Name}\":\"{l.Value.GetString()}\"")) + "}";

    private static double Timestamp(string exemplar) => long.Parse(exemplar[(exemplar.LastIndexOf('@') + 1)..], CultureInfo.InvariantCulture);
}
