using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.Querier.Api;
using Amphora.Querier.Frontend;
using Xunit;

namespace Amphora.Querier.Tests.Frontend;

/// <summary>
/// A <c>--target=query-frontend</c> reads native histograms back from a querier exactly: the querier writes them in full
/// (schema, spans, buckets, custom bounds, reset hint) for a trusted frontend, and the frontend rebuilds the same histogram,
/// so its own rendering in Prometheus's form is the querier's.
/// </summary>
public sealed class HistogramExchangeTests
{
    private static FloatHistogram Exponential() => new()
    {
        Schema = 1, ZeroThreshold = 0.001, ZeroCount = 2, Count = 17.5, Sum = 0.1 + 0.2, CounterResetHint = CounterResetHint.NotCounterReset,
        PositiveSpans = [new(-2, 2), new(3, 1)], PositiveBuckets = [1, 2.5, 4],
        NegativeSpans = [new(0, 1)], NegativeBuckets = [8],
    };

    private static FloatHistogram Custom() => new()
    {
        Schema = -53, Count = 6, Sum = -1e-300, PositiveSpans = [new(0, 3)], PositiveBuckets = [1, 0, 5], CustomValues = [0.5, 1, double.PositiveInfinity],
    };

    [Fact]
    public void Histograms_written_in_full_are_read_back_identical()
    {
        var w = new PromJsonWriter();
        w.Raw("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"__name__\":\"h\"},\"values\":[[1.5,\"3\"]],\"histograms\":["u8);
        w.HistogramPointFull(1000, Exponential()).Raw(',').HistogramPointFull(2000, Custom());
        w.Raw("]}]},\"infos\":[\"an info\"]}"u8);
        var result = HttpQueryBackend.Parse(w.WrittenMemory.ToArray(), 200);

        var series = Assert.Single(Assert.IsType<MatrixValue>(result.Value).Series);
        Assert.Equal([1000L, 1500, 2000], series.Points.Select(p => p.T));
        Assert.True(series.Points[0].H!.IdenticalTo(Exponential()), series.Points[0].H!.ToString());
        Assert.Equal((1500L, 3.0, (FloatHistogram?)null), (series.Points[1].T, series.Points[1].F, series.Points[1].H));
        Assert.True(series.Points[2].H!.IdenticalTo(Custom()), series.Points[2].H!.ToString());
        Assert.Equal(["an info"], result.Infos);

        var v = new PromJsonWriter();
        v.Raw("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"a\":\"b\"},\"histogram\":"u8);
        v.HistogramPointFull(5000, Custom()).Raw("}]}}"u8);
        var sample = Assert.Single(Assert.IsType<VectorValue>(HttpQueryBackend.Parse(v.WrittenMemory.ToArray(), 200).Value).Samples);
        Assert.True(sample.H!.IdenticalTo(Custom()));
        Assert.Equal(5000, sample.T);
    }

    [Fact]
    public void A_histogram_in_Prometheus_s_lossy_form_is_refused_naming_the_key_to_use()
    {
        var w = new PromJsonWriter();
        w.Raw("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"histogram\":"u8);
        w.HistogramPoint(5000, Custom()).Raw("}]}}"u8);
        var e = Assert.Throws<ApiException>(() => HttpQueryBackend.Parse(w.WrittenMemory.ToArray(), 200));
        Assert.Contains("--auth.admin-key-file", e.Message);
    }

    [Fact]
    public void Querier_errors_come_back_typed_and_a_body_that_is_not_Prometheus_s_is_unavailable()
    {
        var e = Assert.Throws<ApiException>(() => HttpQueryBackend.Parse(
            "{\"status\":\"error\",\"errorType\":\"execution\",\"error\":\"vector cannot contain metrics with the same labelset\"}"u8.ToArray(), 422));
        Assert.Equal((ApiErrorType.Execution, "vector cannot contain metrics with the same labelset"), (e.Type, e.Message));
        Assert.Equal(ApiErrorType.Unavailable, Assert.Throws<ApiException>(() => HttpQueryBackend.Parse("<html>"u8.ToArray(), 502)).Type);
        Assert.Equal(ApiErrorType.Unavailable, Assert.Throws<ApiException>(() => HttpQueryBackend.Parse("{\"message\":\"denied\"}"u8.ToArray(), 403)).Type);
    }
}
