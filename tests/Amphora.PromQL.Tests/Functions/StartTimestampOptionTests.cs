using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.PromQL.Parser;
using Amphora.PromQL.Tests.Scripts;
using Xunit;

namespace Amphora.PromQL.Tests.Functions;

/// <summary>
/// Start timestamps change the counter functions only behind their option, as behind Prometheus's
/// --enable-feature=use-start-timestamps; start_timestamp() is an experimental function.
/// </summary>
public sealed class StartTimestampOptionTests
{
    private static readonly Labels Delta = Labels.FromStrings("__name__", "requests_total");

    /// <summary>An OTel delta counter: 60 every minute, each sample starting where the previous one ended.</summary>
    private static ScriptStorage OtelDeltas()
    {
        var storage = new ScriptStorage();
        for (long t = 60_000; t <= 900_000; t += 60_000)
        {
            storage.Add(Delta, t, 60);
            storage.SetStartTimestamp(Delta, t, t - 60_000);
        }
        return storage;
    }

    private static async Task<double> InstantAsync(EngineOptions options, string query)
    {
        var result = await new PromQLEngine(options).InstantQuery(OtelDeltas(), query, 600_000).ExecAsync(CancellationToken.None);
        return Assert.Single(((VectorValue)result.Value).Samples).F;
    }

    [Fact]
    public async Task With_the_option_increase_counts_every_delta_sample()
    {
        var on = new EngineOptions { EnableStartTimestamps = true };
        Assert.Equal(300, await InstantAsync(on, "increase(requests_total[5m])"), 9);
        Assert.Equal(4, await InstantAsync(on, "resets(requests_total[5m])"));
    }

    [Fact]
    public async Task Without_the_option_only_the_values_count_and_a_constant_delta_has_no_increase()
    {
        var off = new EngineOptions();
        Assert.Equal(0, await InstantAsync(off, "increase(requests_total[5m])"));
        Assert.Equal(0, await InstantAsync(off, "resets(requests_total[5m])"));
    }

    [Fact]
    public async Task Start_timestamp_returns_the_stored_start_and_needs_experimental_functions()
    {
        Assert.Equal(540, await InstantAsync(new EngineOptions { EnableExperimentalFunctions = true }, "start_timestamp(requests_total)"));
        var e = Assert.Throws<ParseException>(() => new PromQLEngine(new EngineOptions()).InstantQuery(OtelDeltas(), "start_timestamp(requests_total)", 600_000));
        Assert.Contains("function \"start_timestamp\" is not enabled", e.Message);
    }
}
