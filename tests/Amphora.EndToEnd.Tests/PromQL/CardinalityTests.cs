using System.Net;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.PromQL;

/// <summary>
/// Known series go to two workspaces of amphora and the first workspace's also to Debian's Prometheus 2.42:
/// <c>/api/v1/status/tsdb</c> must give Prometheus's figures, each workspace only its own, and Mimir's cardinality API the
/// counts of what was written. The usage endpoint (CardinalityTests.Usage.cs) reports the same writes and the samples the
/// queries read, as Prometheus's query statistics count them.
/// </summary>
public sealed partial class CardinalityTests : IAsyncLifetime
{
    private AmphoraProcess _amphora = null!;
    private PrometheusProcess _prometheus = null!;
    private readonly List<List<(string Name, string Value)>> _a = Build("a", metrics: 12);
    private readonly List<List<(string Name, string Value)>> _b = Build("b", metrics: 3);

    /// <summary>Metric i has 3 + 2i series; job, instance and path values of different lengths and reuse.</summary>
    private static List<List<(string Name, string Value)>> Build(string prefix, int metrics)
    {
        var all = new List<List<(string, string)>>();
        for (int m = 0; m < metrics; m++)
            for (int i = 0; i < 3 + 2 * m; i++)
            {
                var labels = new List<(string, string)> { ("__name__", $"{prefix}_metric_{m}"), ("job", "job-" + i % (m % 4 + 1)) };
                labels.Add(("instance", $"host-{i}.{new string('x', i % 5)}"));
                if (m % 3 == 0) labels.Add(("path", "/api/" + new string('p', m + i % 3)));
                all.Add(labels.OrderBy(l => l.Item1, StringComparer.Ordinal).ToList());
            }
        return all;
    }

    public async Task InitializeAsync()
    {
        _amphora = AmphoraProcess.Start(null, null, "--metrics.per-workspace");
        _prometheus = PrometheusProcess.Start("global:\n  scrape_interval: 1m\n", null, "--web.enable-remote-write-receiver");
        await _amphora.WaitReadyAsync();
        await _prometheus.WaitReadyAsync();
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var amphora = new RemoteWriteClient(_amphora.BaseAddress);
        using var prometheus = new RemoteWriteClient(_prometheus.BaseAddress);
        foreach (var (workspace, series) in new[] { ("card-a", _a), ("card-b", _b) })
        {
            var request = new WriteRequestBuilder();
            foreach (var labels in series)
                request.Series(string.Join(',', labels.Select(l => $"{l.Name}=\"{l.Value}\"")), (now - 60_000, 1), (now, 2));
            var r = await amphora.PushAsync(workspace, request);
            Assert.True(r.Status == HttpStatusCode.NoContent, $"amphora refused {workspace}: {r.Status} {r.Body}");
            if (workspace != "card-a") continue;
            var p = await prometheus.PostAsync("/api/v1/write", null, IronSnappy.Snappy.Encode(request.Encode()));
            Assert.True(p.Status == HttpStatusCode.NoContent, $"prometheus refused: {p.Status} {p.Body}");
        }
    }

    public async Task DisposeAsync()
    {
        _prometheus.Dispose();
        await _amphora.TerminateAsync(TimeSpan.FromSeconds(30));
        _amphora.Dispose();
    }

    [Fact]
    public async Task Status_tsdb_gives_prometheus_figures_and_each_workspace_only_its_own()
    {
        using var amphora = new PromApiClient(_amphora.BaseAddress, "/prometheus/api/v1", "card-a");
        using var prometheus = new PromApiClient(_prometheus.BaseAddress);
        var a = (await amphora.GetAsync("status/tsdb")).Json.GetProperty("data");
        var p = (await prometheus.GetAsync("status/tsdb")).Json.GetProperty("data");
        Assert.Equal(_a.Count, a.GetProperty("headStats").GetProperty("numSeries").GetInt64());
        foreach (var stat in new[] { "numSeries", "numLabelPairs" })
            Assert.Equal(p.GetProperty("headStats").GetProperty(stat).GetInt64(), a.GetProperty("headStats").GetProperty(stat).GetInt64());
        foreach (var list in new[] { "seriesCountByMetricName", "labelValueCountByLabelName", "memoryInBytesByLabelName", "seriesCountByLabelValuePair" })
            AssertSameTop(list, Stats(p.GetProperty(list)), Stats(a.GetProperty(list)));

        using var other = new PromApiClient(_amphora.BaseAddress, "/workspaces/card-b/api/v1");
        var b = (await other.GetAsync("status/tsdb")).Json.GetProperty("data");
        Assert.Equal(_b.Count, b.GetProperty("headStats").GetProperty("numSeries").GetInt64());
        Assert.All(Stats(b.GetProperty("seriesCountByMetricName")), s => Assert.StartsWith("b_metric_", s.Name));
        Assert.Equal([("b_metric_2", 7L), ("b_metric_1", 5L), ("b_metric_0", 3L)], Stats(b.GetProperty("seriesCountByMetricName")));
    }

    [Fact]
    public async Task The_cardinality_api_counts_what_was_written()
    {
        using var amphora = new PromApiClient(_amphora.BaseAddress, "/prometheus/api/v1", "card-a");
        var names = (await amphora.GetAsync("cardinality/label_names", ("limit", "3"))).Json;
        var pairs = _a.SelectMany(s => s).Distinct().ToList();
        Assert.Equal(pairs.Count, names.GetProperty("label_values_count_total").GetInt64());
        Assert.Equal(4, names.GetProperty("label_names_count").GetInt64());
        var expectedNames = pairs.GroupBy(l => l.Name).Select(g => (g.Key, (long)g.Count()))
            .OrderByDescending(x => x.Item2).ThenBy(x => x.Key, StringComparer.Ordinal).Take(3).ToList();
        Assert.Equal(expectedNames, names.GetProperty("cardinality").EnumerateArray()
            .Select(e => (e.GetProperty("label_name").GetString()!, e.GetProperty("label_values_count").GetInt64())).ToList());

        var values = (await amphora.GetAsync("cardinality/label_values",
            ("label_names[]", "path"), ("label_names[]", "job"), ("selector", "{__name__=~\"a_metric_(0|3|6)\"}"), ("limit", "2"))).Json;
        var selected = _a.Where(s => s.Any(l => l.Name == "__name__" && l.Value is "a_metric_0" or "a_metric_3" or "a_metric_6")).ToList();
        Assert.Equal(selected.Count, values.GetProperty("series_count_total").GetInt64());
        var labels = values.GetProperty("labels").EnumerateArray().ToList();
        Assert.Equal(["job", "path"], labels.Select(l => l.GetProperty("label_name").GetString()!).Order(StringComparer.Ordinal));
        foreach (var label in labels)
        {
            string name = label.GetProperty("label_name").GetString()!;
            var byValue = selected.SelectMany(s => s).Where(l => l.Name == name).GroupBy(l => l.Value).ToList();
            Assert.Equal(byValue.Sum(g => g.Count()), label.GetProperty("series_count").GetInt64());
            Assert.Equal(byValue.Count, label.GetProperty("label_values_count").GetInt64());
            var top = byValue.Select(g => (g.Key, (long)g.Count())).OrderByDescending(x => x.Item2).ThenBy(x => x.Key, StringComparer.Ordinal).Take(2);
            Assert.Equal(top, label.GetProperty("cardinality").EnumerateArray()
                .Select(e => (e.GetProperty("label_value").GetString()!, e.GetProperty("series_count").GetInt64())));
        }
    }

    [Theory]
    [InlineData("status/tsdb?limit=0", "limit")]
    [InlineData("cardinality/label_names?limit=501", "limit")]
    [InlineData("cardinality/label_values", "label_names[]")]
    [InlineData("cardinality/label_values?label_names[]=job&selector=%7B", "selector")]
    public async Task A_bad_parameter_is_400_bad_data_naming_it(string pathAndQuery, string parameter)
    {
        using var http = new HttpClient { BaseAddress = _amphora.BaseAddress };
        using var r = await http.GetAsync("/workspaces/card-a/api/v1/" + pathAndQuery);
        string body = await r.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal("bad_data", json.GetProperty("errorType").GetString());
        Assert.Contains(parameter, json.GetProperty("error").GetString());
    }

    private static List<(string Name, long Value)> Stats(JsonElement list) =>
        list.EnumerateArray().Select(e => (e.GetProperty("name").GetString()!, e.GetProperty("value").GetInt64())).ToList();

    /// <summary>
    /// The same counts in the same order, and the same names wherever a count is above the list's last one (Prometheus
    /// orders equal counts arbitrarily, so which of several tied entries made the cut can differ).
    /// </summary>
    private static void AssertSameTop(string list, List<(string Name, long Value)> prometheus, List<(string Name, long Value)> amphora)
    {
        Assert.True(prometheus.Select(s => s.Value).SequenceEqual(amphora.Select(s => s.Value)),
            $"{list}: prometheus {Show(prometheus)}, amphora {Show(amphora)}");
        long cut = prometheus.Count == 0 ? 0 : prometheus.Min(s => s.Value);
        Assert.True(prometheus.Where(s => s.Value > cut).ToHashSet().SetEquals(amphora.Where(s => s.Value > cut)),
            $"{list}: prometheus {Show(prometheus)}, amphora {Show(amphora)}");
        Assert.True(prometheus.Count >= 4, $"{list}: too few entries to compare: {Show(prometheus)}");
    }

    private static string Show(IEnumerable<(string Name, long Value)> s) => string.Join(", ", s.Select(x => $"{x.Name}={x.Value}"));
}
