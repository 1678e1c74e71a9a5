using Amphora.Distributor.Prompb;
using Amphora.Model;
using Xunit;
using PHistogram = Amphora.Distributor.Prompb.Histogram;

namespace Amphora.Distributor.Tests;

/// <summary>Native histograms in remote write 1.0: valid ones reach the ingesters as histograms, invalid ones get 400 naming the
/// series and the problem while the rest of the request is kept.</summary>
public sealed class HistogramIngestTests
{
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>count 10 = zero 1 + positive 2, 3, 1 + negative 3; schema 2, two positive spans.</summary>
    private static PHistogram Valid(long t)
    {
        var h = new PHistogram { CountInt = 10, ZeroCountInt = 1, Sum = 4.5, Schema = 2, ZeroThreshold = 0.001, Timestamp = t, ResetHint = PHistogram.Types.ResetHint.No };
        h.PositiveSpans.Add(new BucketSpan { Offset = -2, Length = 2 });
        h.PositiveSpans.Add(new BucketSpan { Offset = 3, Length = 1 });
        h.PositiveDeltas.Add([2, 1, -2]);
        h.NegativeSpans.Add(new BucketSpan { Offset = 0, Length = 1 });
        h.NegativeDeltas.Add(3);
        return h;
    }

    private static WriteRequest Request(string name, params PHistogram[] histograms)
    {
        var ts = new TimeSeries();
        ts.Labels.Add(new Prompb.Label { Name = Google.Protobuf.ByteString.CopyFromUtf8("__name__"), Value = Google.Protobuf.ByteString.CopyFromUtf8(name) });
        ts.Histograms.Add(histograms);
        var request = new WriteRequest();
        request.Timeseries.Add(ts);
        return request;
    }

    [Fact]
    public async Task A_valid_integer_histogram_reaches_the_ingesters_with_every_field()
    {
        var push = new RecordingPush { StoresHistograms = true };
        var result = await Distributors.Create(push).PushAsync("ws", Request("latency", Valid(Now), Valid(Now + 1000)), default);
        Assert.Equal(204, result.StatusCode);
        var series = Assert.Single(push.Series);
        Assert.Equal(2, series.Histograms.Length);
        var (t, h) = series.Histograms[0];
        Assert.Equal(Now, t);
        Assert.Equal(10UL, h.Count);
        Assert.Equal(1UL, h.ZeroCount);
        Assert.Equal(2, h.Schema);
        Assert.Equal(0.001, h.ZeroThreshold);
        Assert.Equal(CounterResetHint.NotCounterReset, h.CounterResetHint);
        Assert.Equal([new HistogramSpan(-2, 2), new HistogramSpan(3, 1)], h.PositiveSpans);
        Assert.Equal([2L, 1, -2], h.PositiveBuckets);
        Assert.Equal([3L], h.NegativeBuckets);
    }

    public static TheoryData<string, Action<PHistogram>, string> Invalid => new()
    {
        { "bad schema", h => h.Schema = 9, "schema 9 is not valid" },
        { "counts that do not add up", h => h.CountInt = 11, "add up to 10, not to the count 11" },
        { "a negative bucket count", h => { h.PositiveDeltas[2] = -5; h.CountInt = 7; }, "positive bucket 2 has a negative count -2" },
        { "spans that do not match the buckets", h => h.PositiveSpans[1].Length = 2, "the positive spans cover 4 buckets but 3 positive bucket counts were sent" },
        { "a negative zero threshold", h => h.ZeroThreshold = -1, "zero threshold -1" },
        { "mixed integer and float fields", h => h.PositiveCounts.Add(1.0), "mixes integer fields" },
        { "an unknown reset hint", h => h.ResetHint = (PHistogram.Types.ResetHint)7, "reset_hint 7" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task An_invalid_histogram_gets_400_naming_the_series_and_the_problem_and_the_valid_one_is_kept(string what, Action<PHistogram> breakIt, string expected)
    {
        var push = new RecordingPush { StoresHistograms = true };
        var bad = Valid(Now + 1000);
        breakIt(bad);
        var result = await Distributors.Create(push).PushAsync("ws", Request("latency", Valid(Now), bad), default);
        Assert.True(result.StatusCode == 400, what);
        Assert.Contains(RemoteWriteHistograms.InvalidId, result.Message);
        Assert.Contains(expected, result.Message);
        Assert.Contains("latency", result.Message);
        Assert.Equal(1, result.RejectedHistograms);
        Assert.Single(Assert.Single(push.Series).Histograms);
    }

    [Fact]
    public async Task A_float_histogram_and_a_stale_marker_are_stored_and_an_invalid_float_one_gets_400()
    {
        var push = new RecordingPush { StoresHistograms = true };
        var f = new PHistogram { CountFloat = 2.5, ZeroCountFloat = 0.5, Sum = 1, Timestamp = Now, ZeroThreshold = 0.001 };
        f.PositiveSpans.Add(new BucketSpan { Offset = 0, Length = 1 });
        f.PositiveCounts.Add(2.0);
        var bad = f.Clone();
        bad.Timestamp = Now + 500;
        bad.PositiveCounts[0] = -1;
        var stale = new PHistogram { Sum = StaleNaN.Value, Timestamp = Now + 1000 };
        var result = await Distributors.Create(push).PushAsync("ws", Request("latency", f, bad, stale), default);
        Assert.Equal(400, result.StatusCode);
        Assert.Contains(RemoteWriteHistograms.InvalidId, result.Message);
        Assert.Contains("positive bucket 0 has a count -1", result.Message);
        var series = Assert.Single(push.Series);
        var (t, fh) = Assert.Single(series.FloatHistograms);
        Assert.Equal(Now, t);
        Assert.Equal(2.5, fh.Count);
        Assert.Equal([2.0], fh.PositiveBuckets);
        var (_, h) = Assert.Single(series.Histograms);
        Assert.True(h.IsStale);
    }

    [Fact]
    public async Task Histograms_count_as_samples_against_the_rate_limit()
    {
        // A burst of 2 samples: three histograms are one more than it admits, two fit.
        var overrides = new Amphora.Tenancy.Limits.Overrides(Amphora.Tenancy.Limits.Limits.Default with { IngestionRate = 0.01, IngestionBurstSize = 2 });
        var push = new RecordingPush { StoresHistograms = true };
        var distributor = new DistributorService(push, new DistributorOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger<DistributorService>.Instance)
        {
            IngestionRate = new Amphora.Tenancy.Limits.IngestionRateLimiter(overrides),
        };
        var refused = await distributor.PushAsync("ws", Request("latency", Valid(Now), Valid(Now + 1), Valid(Now + 2)), default);
        Assert.Equal(429, refused.StatusCode);
        Assert.Contains("has 3 samples", refused.Message);
        Assert.Equal(0, push.Pushes);
        var admitted = await distributor.PushAsync("ws", Request("latency", Valid(Now), Valid(Now + 1)), default);
        Assert.Equal(204, admitted.StatusCode);
    }
}
