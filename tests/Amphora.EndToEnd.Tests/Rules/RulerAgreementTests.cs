using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Rules;

/// <summary>
/// The same rule file and the same remote-written samples in Debian's Prometheus 2.42 (its remote-write receiver, the rules
/// in its config) and in an amphora process (the rules as a rule groups namespace): recorded series, alerts, rendered
/// templates and the <c>/api/v1/rules</c> and <c>/api/v1/alerts</c> JSON agree.
/// <para>Aligning evaluation times: the two evaluate their groups at different offsets within the 1s interval (each from its
/// own hash of the group), so the inputs are made static over the comparison: every sample is written once, 150 to 60 s in
/// the past, so each expression (rate windows of 5m that contain every sample with gaps wider than the extrapolation threshold
/// at both ends, lookback of 5m that still sees the last sample) gives the same value at any evaluation time in the next
/// minutes. The recorded series are then compared by instant queries at one common time T on both.</para>
/// </summary>
public sealed class RulerAgreementTests : IAsyncLifetime
{
    private const string ExternalUrl = "http://amphora.example:9009/";

    private const string RuleFile = """
        groups:
          - name: recording
            interval: 1s
            rules:
              - record: job:http_requests:rate5m
                expr: sum by (job) (rate(http_requests_total[5m]))
              - record: instance:http_requests:increase5m
                expr: increase(http_requests_total{code="200"}[5m])
                labels:
                  source: rules
              - record: code:http_requests:ratio
                expr: sum by (code) (rate(http_requests_total[5m])) / on () group_left () sum(rate(http_requests_total[5m]))
              - record: le:latency_seconds:p90
                expr: histogram_quantile(0.9, sum by (le) (rate(latency_seconds_bucket[5m])))
              - record: room:temp:hot
                expr: max by (room) (temp) > 18
              - record: temp:count:doubled
                expr: scalar(count(temp)) * 2
              - record: dup
                expr: temp
                labels:
                  room: same
          - name: alerting
            interval: 1s
            rules:
              - alert: HotRoom
                expr: temp > 20
                for: 2s
                labels:
                  severity: '{{ if gt $value 25.0 }}page{{ else }}ticket{{ end }}'
                  where: '{{ $labels.room | toUpper }}'
                annotations:
                  summary: 'Room {{ $labels.room }} is at {{ $value }} degrees'
                  humanized: '{{ humanize $value }} {{ humanize1024 1048576.0 }} {{ humanizePercentage 0.1234 }} {{ humanizeDuration 3725.0 }} {{ humanizeDuration 0.0123 }}'
                  timestamp: '{{ humanizeTimestamp 1700000000.25 }} {{ toTime 1700000000.0 }}'
                  printf: '{{ printf "%.2f|%5d|%-6s|%q|%x|%v|%e|%g" $value 42 "ab" "q" 255 true 1234.5 0.000012 }}'
                  query: '{{ with query "count(temp)" }}{{ . | first | value }}{{ end }} {{ range query "temp" | sortByLabel "room" }}{{ .Labels.room }}={{ .Value }} {{ end }}'
                  labels: '{{ range $k, $v := $labels }}{{ $k }}:{{ $v }};{{ end }}'
                  strings: '{{ title "hello world-wide" }} {{ toLower "ABC" }} {{ reReplaceAll "(.*)_(.*)" "$2-$1" "left_right" }} {{ match "^r" "room" }} {{ stripPort "host.example.com:9100" }} {{ stripDomain "host.example.com:9100" }}'
                  urls: '{{ externalURL }} {{ pathPrefix }} {{ $externalURL }} {{ graphLink "up == 0" }} {{ tableLink "up" }} {{ urlquery "a b&c" }} {{ html "<b>" }} {{ js "it''s" }} {{ safeHtml "<i>" }}'
                  builtins: '{{ len "abc" }} {{ index $labels "room" }} {{ slice "abcdef" 1 3 }} {{ print 1 2 "x" 3 }} {{ and 1 0 }} {{ or 0 "y" }} {{ not true }} {{ eq 1 2 1 }} {{ ne "a" "b" }} {{ le 1.5 2.0 }} {{ parseDuration "1h30m" }}'
                  control: '{{ $n := 0 }}{{ range $i, $s := query "temp" }}{{ if eq $i 0 }}{{ continue }}{{ end }}[{{ $i }}]{{ end }}{{ with $labels.missing }}x{{ else }}none{{ end }}{{- "  trimmed  " -}}'
                  defines: '{{ define "t" }}<{{ . }}>{{ end }}{{ template "t" $labels.room }}'
                  numbers: '{{ 1e6 }} {{ 123456789.0 }} {{ 0.00001 }} {{ 0x1F }} {{ 1.5e3 }} {{ -7 }}'
                  fails: '{{ humanize "x" }}'
                  fails_later: 'ok {{ first (query "nothing_here") }}'
                  fails_compare: '{{ if gt $value 10 }}x{{ end }}'
              - alert: NeverFires
                expr: temp > 1000
              - alert: LongPending
                expr: temp > 0
                for: 1h
                labels:
                  team: infra
        """;

    private AmphoraProcess _amphora = null!;
    private PrometheusProcess _prometheus = null!;
    private string _workspace = "";
    private string _rulesDir = "";

    public async Task InitializeAsync()
    {
        _amphora = AmphoraProcess.Start(extraArgs: ["--ruler.sync-interval=1s", $"--ruler.external-url={ExternalUrl}"]);
        await _amphora.WaitReadyAsync();
        _rulesDir = RepoPaths.NewTempDir("prom-rules");
        string rules = Path.Combine(_rulesDir, "rules.yml");
        await File.WriteAllTextAsync(rules, RuleFile);
        _prometheus = PrometheusProcess.Start($"global: {{ evaluation_interval: 1s }}\nrule_files: ['{rules}']\n", null,
            "--web.enable-remote-write-receiver", $"--web.external-url={ExternalUrl}");
        await _prometheus.WaitReadyAsync();
        _workspace = await RulerSupport.CreateWorkspaceAsync(_amphora.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        _prometheus.Dispose();
        try { Directory.Delete(_rulesDir, recursive: true); } catch (IOException) { }
        await _amphora.TerminateAsync(TimeSpan.FromSeconds(30));
        _amphora.Dispose();
    }

    [Fact]
    public async Task Recorded_series_alerts_templates_and_the_rules_and_alerts_JSON_agree_with_Prometheus()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000 * 1000;
        var series = Data(now).ToList();
        await RulerSupport.WriteAsync(_prometheus.BaseAddress, "/api/v1/write", series);
        await RulerSupport.WriteAsync(_amphora.BaseAddress, $"/workspaces/{_workspace}/api/v1/remote_write", series);
        await RulerSupport.PutRulesAsync(_amphora.BaseAddress, _workspace, "rules.yml", RuleFile);

        using var amphora = new PromApiClient(_amphora.BaseAddress, $"/workspaces/{_workspace}/api/v1");
        using var prometheus = new PromApiClient(_prometheus.BaseAddress);
        // Both have evaluated with the data and HotRoom has fired (for: 2s) on both.
        foreach (var (api, name) in new[] { (amphora, "amphora"), (prometheus, "prometheus") })
        {
            string last = "";
            await Eventually.HoldsAsync(async () => (last = (await api.GetAsync("rules")).Body).Contains("\"state\":\"firing\""),
                () => $"HotRoom firing on {name}: {last}", TimeSpan.FromSeconds(30));
        }

        long t = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var name in new[] { "job:http_requests:rate5m", "instance:http_requests:increase5m", "code:http_requests:ratio",
                     "le:latency_seconds:p90", "room:temp:hot", "temp:count:doubled", "ALERTS", "ALERTS_FOR_STATE{alertname=\"HotRoom\"}" })
        {
            var expected = Vector((await prometheus.QueryAsync(name, t)).Json, name == "ALERTS_FOR_STATE{alertname=\"HotRoom\"}");
            var actual = Vector((await amphora.QueryAsync(name, t)).Json, name == "ALERTS_FOR_STATE{alertname=\"HotRoom\"}");
            Assert.NotEmpty(expected);
            Assert.Equal(expected, actual);
        }

        var byNature = new HashSet<string> { "evaluationTime", "lastEvaluation", "activeAt", "file" };
        var promRules = (await prometheus.GetAsync("rules")).Json;
        var ampRules = (await amphora.GetAsync("rules")).Json;
        Assert.True(RulerSupport.Difference(promRules, ampRules, byNature) is null, RulerSupport.Difference(promRules, ampRules, byNature));
        Assert.Null(RulerSupport.Difference((await prometheus.GetAsync("alerts")).Json, (await amphora.GetAsync("alerts")).Json, byNature));
        foreach (var type in new[] { "alert", "record" })
            Assert.Null(RulerSupport.Difference((await prometheus.GetAsync("rules", ("type", type))).Json,
                (await amphora.GetAsync("rules", ("type", type))).Json, byNature));
        var badType = await amphora.GetAsync("rules", ("type", "nope"));
        Assert.Equal((await prometheus.GetAsync("rules", ("type", "nope"))).Body, badType.Body);

        // The rule that fails at evaluation is err with Prometheus's lastError, on both.
        Assert.Contains("\"health\":\"err\",\"lastError\":\"vector contains metrics with the same labelset after applying rule labels\"", ampRules.GetRawText());
    }

    /// <summary>A query result as sorted "labels value" lines (ALERTS_FOR_STATE's value, activeAt, differs by nature).</summary>
    private static List<string> Vector(JsonElement json, bool ignoreValue) =>
        json.GetProperty("data").GetProperty("result").EnumerateArray()
            .Select(s => s.GetProperty("metric").GetRawText() + (ignoreValue ? "" : " " + s.GetProperty("value")[1].GetString()))
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>Counters, a histogram and gauges: ten samples each, every 10s from 150s to 60s ago.</summary>
    private static IEnumerable<(string, (long, double)[])> Data(long now)
    {
        (long, double)[] Ramp(double start, double step) =>
            Enumerable.Range(0, 10).Select(i => (now - 150_000 + i * 10_000L, start + i * step)).ToArray();
        foreach (var (job, instance, code, step) in new[] { ("api", "a:1", "200", 5.0), ("api", "a:2", "200", 7.0), ("api", "a:1", "500", 1.0), ("web", "w:1", "200", 3.0) })
            yield return ($"__name__=\"http_requests_total\",code=\"{code}\",instance=\"{instance}\",job=\"{job}\"", Ramp(100, step));
        foreach (var (le, step) in new[] { ("0.1", 2.0), ("0.5", 6.0), ("1", 9.0), ("+Inf", 10.0) })
            yield return ($"__name__=\"latency_seconds_bucket\",job=\"api\",le=\"{le}\"", Ramp(0, step));
        foreach (var (room, value) in new[] { ("kitchen", 22.5), ("lab", 26.0), ("cellar", 12.0) })
            yield return ($"__name__=\"temp\",room=\"{room}\"", Ramp(value, 0));
    }
}
