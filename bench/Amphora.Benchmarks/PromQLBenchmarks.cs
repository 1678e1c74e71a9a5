using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.PromQL.Parser;
using BenchmarkDotNet.Attributes;

namespace Amphora.Benchmarks;

/// <summary>Parsing typical dashboard queries.</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class PromQLParseBenchmarks
{
    [Params("sum by (job) (rate(http_requests_total{job=~\"api|web\"}[5m]))",
            "histogram_quantile(0.99, sum by (le) (rate(request_duration_seconds_bucket[5m])))",
            "node_filesystem_avail_bytes * on (instance) group_left (nodename) node_uname_info > 0")]
    public string Query { get; set; } = "";

    [Benchmark]
    public Expr Parse() => PromQLParser.ParseExpr(Query);
}

/// <summary>
/// Range queries over 10k series × 1 h at a 15 s scrape interval (2.4M samples) from in-memory storage, evaluated at a
/// 15 s step: the dashboard shapes of issue 4.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class PromQLEvalBenchmarks
{
    private const long Hour = 3_600_000;
    private readonly PromQLEngine _engine = new(new EngineOptions());
    private InMemorySeries _storage = null!;

    [Params("sum by (job) (rate(http_requests_total[5m]))",
            "histogram_quantile(0.99, sum by (le) (rate(request_duration_seconds_bucket[5m])))",
            "topk(10, rate(http_requests_total[5m]))",
            "rate(http_requests_total[5m]) * on (instance) group_left (region) instance_info")]
    public string Query { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _storage = new InMemorySeries();
        var random = new Random(7);
        const int Samples = 241;
        long[] times = Enumerable.Range(0, Samples).Select(i => i * 15_000L).ToArray();
        // 8,000 counters over 200 instances, 1,800 histogram buckets (12 le × 150 handlers), 200 info series: 10,000 series.
        for (int i = 0; i < 8_000; i++)
        {
            var labels = Labels.FromStrings("__name__", "http_requests_total", "job", $"job{i % 10}", "instance", $"i{i % 200}",
                "handler", $"/h{i / 200}", "code", (i % 3 == 0) ? "500" : "200");
            double rate = 1 + random.NextDouble() * 10, value = 0;
            _storage.Add(labels, times, times.Select(_ => value += rate * 15).ToArray());
        }
        string[] le = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];
        for (int h = 0; h < 150; h++)
            for (int b = 0; b < le.Length; b++)
            {
                var labels = Labels.FromStrings("__name__", "request_duration_seconds_bucket", "handler", $"/h{h}", "le", le[b]);
                double share = (b + 1.0) / le.Length;
                _storage.Add(labels, times, times.Select((_, i) => Math.Floor(i * 100 * share)).ToArray());
            }
        for (int i = 0; i < 200; i++)
            _storage.Add(Labels.FromStrings("__name__", "instance_info", "instance", $"i{i}", "region", i % 2 == 0 ? "eu" : "us"),
                times, times.Select(_ => 1.0).ToArray());
        _storage.Sort();
    }

    [Benchmark]
    public async Task<QueryValue> RangeQueryOneHourAt15sStep()
    {
        var query = _engine.RangeQuery(_storage, Query, 0, Hour, 15_000);
        var result = await query.ExecAsync(CancellationToken.None);
        return result.Value;
    }
}
