using Amphora.EndToEnd.Tests.Harness;

namespace Amphora.EndToEnd.Tests.PromQL;

/// <summary>
/// One hour of deterministic data at a 15 s interval: counters with resets, gauges crossing zero, a classic histogram, info
/// series for joins, NaN and +Inf values, and a series that goes stale half way. Sample times end in 123–189 ms, never on
/// whole seconds.
/// </summary>
public static class AgreementData
{
    public static List<WriteRequestBuilder> Build(long baseTime, out long lastTime)
    {
        var random = new Random(42);
        var series = new List<(string Labels, Func<int, double> Value)>();
        foreach (var job in new[] { "api", "db", "web" })
        foreach (var instance in new[] { "a", "b" })
        foreach (var method in new[] { "GET", "PUT" })
        foreach (var code in new[] { "200", "500" })
        {
            double rate = 0.5 + random.NextDouble() * 5;
            int resetEvery = 50 + random.Next(200);
            series.Add(($"__name__=\"http_requests_total\",code=\"{code}\",instance=\"{instance}\",job=\"{job}\",method=\"{method}\"",
                i => Math.Round((i % resetEvery) * 15 * rate + (i % resetEvery == 0 ? 0 : random.NextDouble()), 3)));
        }
        foreach (var room in new[] { "kitchen", "cellar", "attic" })
        {
            double phase = random.NextDouble() * 6;
            series.Add(($"__name__=\"temperature\",job=\"sensors\",room=\"{room}\"", i => Math.Round(12 * Math.Sin(phase + i / 20.0) + 3, 4)));
            series.Add(($"__name__=\"temperature_threshold\",room=\"{room}\"", _ => 5));
        }
        series.Add(("__name__=\"temperature\",job=\"outdoor\",room=\"garden\"", i => Math.Round(-4 + i * 0.05, 3)));
        foreach (var (job, region) in new[] { ("api", "eu"), ("db", "us"), ("web", "eu") })
            series.Add(($"__name__=\"job_info\",job=\"{job}\",region=\"{region}\"", _ => 1));
        foreach (var instance in new[] { "a", "b" })
        {
            series.Add(($"__name__=\"node_memory_free_bytes\",instance=\"{instance}\"", i => 4e9 + 1e8 * Math.Cos(i / 7.0)));
            series.Add(($"__name__=\"node_memory_total_bytes\",instance=\"{instance}\"", _ => 16e9));
        }
        string[] bounds = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"];
        foreach (var job in new[] { "api", "web" })
        {
            double[] shares = [0.1, 0.25, 0.45, 0.7, 0.85, 0.97, 1.0];
            for (int b = 0; b < bounds.Length; b++)
            {
                double share = shares[b];
                series.Add(($"__name__=\"request_duration_seconds_bucket\",job=\"{job}\",le=\"{bounds[b]}\"", i => Math.Floor(i * 10 * share)));
            }
            series.Add(($"__name__=\"request_duration_seconds_count\",job=\"{job}\"", i => i * 10));
            series.Add(($"__name__=\"request_duration_seconds_sum\",job=\"{job}\"", i => Math.Round(i * 10 * 0.31, 3)));
        }
        series.Add(("__name__=\"weird\",kind=\"nan\"", i => i % 5 == 0 ? double.NaN : i));
        series.Add(("__name__=\"weird\",kind=\"inf\"", i => i % 7 == 0 ? double.PositiveInfinity : -i));
        series.Add(("__name__=\"goes_stale\"", i => i < 120 ? i : i == 120 ? BitConverter.Int64BitsToDouble(0x7ff0000000000002) : double.NaN));

        const int Samples = 237;
        var requests = new List<WriteRequestBuilder>();
        lastTime = 0;
        // One request per scrape, so every series' samples arrive in time order.
        for (int i = 0; i < Samples; i++)
        {
            var request = new WriteRequestBuilder();
            long t = baseTime + i * 15_000L + (i % 7) * 11;
            lastTime = t;
            foreach (var (labels, value) in series)
            {
                if (labels.Contains("goes_stale") && i > 120) continue;
                request.Series(labels, (t, value(i)));
            }
            requests.Add(request);
        }
        return requests;
    }
}
