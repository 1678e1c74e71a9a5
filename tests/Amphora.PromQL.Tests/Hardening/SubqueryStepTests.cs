using Amphora.PromQL.Engine;
using Xunit;

namespace Amphora.PromQL.Tests.Hardening;

/// <summary>
/// Issue 13, finding 7: a subquery's steps are counted in 64 bits. One with more steps than the sample limit is refused
/// with an error naming the limit, instead of overflowing an int and silently returning nothing.
/// </summary>
public sealed class SubqueryStepTests
{
    [Theory]
    [InlineData("count_over_time(vector(1)[49d:1ms])")]
    [InlineData("max_over_time(up[49d:1ms])")]
    [InlineData("sum_over_time((1 + 1)[292y:1ms])")]
    public async Task A_subquery_with_more_steps_than_the_sample_limit_is_refused(string query)
    {
        var engine = new PromQLEngine(new EngineOptions());
        var e = await Assert.ThrowsAsync<PromQLException>(() =>
            engine.InstantQuery(NestingTests.Storage(), query, 600_000).ExecAsync(default));
        Assert.Equal(PromQLErrorType.Execution, e.ErrorType);
        Assert.Contains("--query.max-samples", e.Message);
        Assert.Contains("steps", e.Message);
    }

    [Fact]
    public async Task The_step_limit_follows_the_configured_sample_limit()
    {
        var engine = new PromQLEngine(new EngineOptions { MaxSamples = 1000 });
        var ok = await engine.InstantQuery(NestingTests.Storage(), "count_over_time(vector(1)[1s:1ms])", 600_000).ExecAsync(default);
        Assert.Equal(1000, Assert.Single(Assert.IsType<VectorValue>(ok.Value).Samples).F);
        var e = await Assert.ThrowsAsync<PromQLException>(() =>
            engine.InstantQuery(NestingTests.Storage(), "count_over_time(vector(1)[2s:1ms])", 600_000).ExecAsync(default));
        Assert.Contains("2000 steps", e.Message);
    }

    [Fact]
    public async Task A_subquery_of_many_steps_below_the_limit_counts_every_step()
    {
        // 2^31 would overflow an int; 3 million steps (well past 11,000) is evaluated and counted exactly.
        var engine = new PromQLEngine(new EngineOptions());
        var r = await engine.InstantQuery(NestingTests.Storage(), "count_over_time(vector(1)[50m:1ms])", 600_000).ExecAsync(default);
        Assert.Equal(3_000_000, Assert.Single(Assert.IsType<VectorValue>(r.Value).Samples).F);
    }

    [Theory]
    [InlineData(0, 0, 1, 1)]
    [InlineData(0, 4_233_600_000, 1, 4_233_600_001)]
    [InlineData(long.MinValue, long.MaxValue, 1, long.MaxValue)]
    [InlineData(long.MinValue, long.MaxValue, long.MaxValue, 3)]
    [InlineData(10, 5, 1, 0)]
    public void Steps_are_counted_in_64_bits(long start, long end, long interval, long steps) =>
        Assert.Equal(steps, Evaluator.CountSteps(start, end, interval));
}
