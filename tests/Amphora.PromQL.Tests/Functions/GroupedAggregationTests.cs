using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.PromQL.Tests.Scripts;
using Xunit;

namespace Amphora.PromQL.Tests.Functions;

/// <summary>
/// A range query's grouped aggregation folds its steps a tile at a time (issue 24); each step must still equal, to the bit,
/// the instant query at that step, which aggregates one step only. The series have gaps and values of many magnitudes, so
/// a sample dropped, counted twice or folded into the wrong step or group would show.
/// </summary>
public sealed class GroupedAggregationTests
{
    private const long Step = 15_000;

    [Theory]
    [InlineData("sum by (job) (x)")]
    [InlineData("avg by (job) (x)")]
    [InlineData("stddev by (job) (x)")]
    [InlineData("stdvar without (instance) (x)")]
    [InlineData("min by (job) (x)")]
    [InlineData("max by (job) (x)")]
    [InlineData("count by (job) (x)")]
    [InlineData("group by (job) (x)")]
    [InlineData("sum(x)")]
    [InlineData("sum by (instance) (x)")] // 300 groups: tiles of a few steps, the last one partial
    [InlineData("sum by (job) (rate(c[5m]))")]
    [InlineData("avg by (instance) (rate(c[5m]))")]
    public async Task Every_step_of_a_range_query_equals_the_instant_query_at_that_step(string query)
    {
        var storage = Storage();
        var engine = new PromQLEngine(new EngineOptions());
        long start = 30 * 60_000, end = start + 3_600_000;
        var range = (MatrixValue)(await engine.RangeQuery(storage, query, start, end, Step).ExecAsync(default)).Value;
        var byLabels = range.Series.ToDictionary(s => s.Metric, s => s.Points.ToDictionary(p => p.T, p => p.F));
        int compared = 0;
        for (long t = start; t <= end; t += Step)
        {
            var instant = (VectorValue)(await engine.InstantQuery(storage, query, t).ExecAsync(default)).Value;
            var atStep = byLabels.Where(kv => kv.Value.ContainsKey(t)).ToDictionary(kv => kv.Key, kv => kv.Value[t]);
            Assert.Equal(instant.Samples.Count, atStep.Count);
            foreach (var s in instant.Samples)
            {
                Assert.True(atStep.TryGetValue(s.Metric, out double f), $"{s.Metric} at {t}: missing from the range result");
                Assert.True(BitConverter.DoubleToInt64Bits(s.F) == BitConverter.DoubleToInt64Bits(f),
                    $"{s.Metric} at {t}: range {f:R}, instant {s.F:R}");
                compared++;
            }
        }
        Assert.True(compared >= 241, $"only {compared} values compared");
    }

    /// <summary>300 gauges x and 300 counters c over two hours at 15 s, about a fifth of the samples missing.</summary>
    private static ScriptStorage Storage()
    {
        var storage = new ScriptStorage();
        var random = new Random(24);
        for (int i = 0; i < 300; i++)
        {
            var gauge = Labels.FromStrings("__name__", "x", "job", $"j{i % 7}", "instance", $"i{i}");
            var counter = Labels.FromStrings("__name__", "c", "job", $"j{i % 7}", "instance", $"i{i}");
            double total = 0;
            for (long t = 0; t <= 7_200_000; t += Step)
            {
                total += random.NextDouble() * Math.Pow(10, random.Next(-3, 9));
                if (random.Next(5) == 0) continue;
                storage.Add(gauge, t, (random.NextDouble() - 0.3) * Math.Pow(10, random.Next(-6, 15)));
                storage.Add(counter, t, total);
            }
        }
        return storage;
    }
}
