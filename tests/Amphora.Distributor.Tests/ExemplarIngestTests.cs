using Amphora.Distributor;
using Amphora.Distributor.Prompb;
using Google.Protobuf;
using Xunit;

namespace Amphora.Distributor.Tests;

/// <summary>
/// Issue 21: remote write 1.0's exemplars (TimeSeries field 3: labels 1, value 2, timestamp 3) reach the ingesters with
/// their series; an exemplar whose labels are not valid UTF-8 names and values, or longer than Prometheus's 128
/// characters, is dropped without failing the write (as in Prometheus).
/// </summary>
public sealed class ExemplarIngestTests
{
    private static Label L(string name, string value) => new() { Name = ByteString.CopyFromUtf8(name), Value = ByteString.CopyFromUtf8(value) };

    [Fact]
    public async Task Exemplars_go_with_their_series_and_invalid_ones_are_dropped_without_failing_the_write()
    {
        var push = new RecordingPush();
        var distributor = Distributors.Create(push);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var ts = new TimeSeries();
        ts.Labels.Add(L("__name__", "http_request_duration_seconds_bucket"));
        ts.Labels.Add(L("le", "0.5"));
        ts.Samples.Add(new Sample { Value = 7, Timestamp = now });
        var good = new Exemplar { Value = 0.42, Timestamp = now - 5 };
        good.Labels.Add(L("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"));
        good.Labels.Add(L("span_id", "00f067aa0ba902b7"));
        var badUtf8 = new Exemplar { Value = 1, Timestamp = now };
        badUtf8.Labels.Add(new Label { Name = ByteString.CopyFromUtf8("trace_id"), Value = ByteString.CopyFrom(0xff, 0xfe) });
        var tooLong = new Exemplar { Value = 1, Timestamp = now };
        tooLong.Labels.Add(L("trace_id", new string('a', 121)));
        var badName = new Exemplar { Value = 1, Timestamp = now };
        badName.Labels.Add(L("0trace", "x"));
        ts.Exemplars.Add(good);
        ts.Exemplars.Add(badUtf8);
        ts.Exemplars.Add(tooLong);
        ts.Exemplars.Add(badName);
        var request = new WriteRequest();
        request.Timeseries.Add(ts);

        var result = await distributor.PushAsync("ws-a", request, CancellationToken.None);
        Assert.Equal(204, result.StatusCode);
        var series = Assert.Single(push.Series);
        var exemplar = Assert.Single(series.Exemplars);
        Assert.Equal(0.42, exemplar.Value);
        Assert.Equal(now - 5, exemplar.T);
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", exemplar.Labels.Get("trace_id"));
        Assert.Equal("00f067aa0ba902b7", exemplar.Labels.Get("span_id"));
    }

    /// <summary>Prometheus's remote write sends a series' exemplars in a TimeSeries of their own, without samples: they go on
    /// to the ingesters, and a series with neither samples nor valid exemplars does not.</summary>
    [Fact]
    public async Task A_series_of_exemplars_without_samples_goes_on_to_the_ingesters()
    {
        var push = new RecordingPush();
        var distributor = Distributors.Create(push);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var samples = new TimeSeries();
        samples.Labels.Add(L("__name__", "http_requests_total"));
        samples.Samples.Add(new Sample { Value = 3, Timestamp = now });
        var exemplarsOnly = new TimeSeries();
        exemplarsOnly.Labels.Add(L("__name__", "http_requests_total"));
        var exemplar = new Exemplar { Value = 1, Timestamp = now - 10 };
        exemplar.Labels.Add(L("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"));
        exemplarsOnly.Exemplars.Add(exemplar);
        var invalidOnly = new TimeSeries();
        invalidOnly.Labels.Add(L("__name__", "other_total"));
        var invalid = new Exemplar { Value = 1, Timestamp = now };
        invalid.Labels.Add(L("0trace", "x"));
        invalidOnly.Exemplars.Add(invalid);
        var request = new WriteRequest();
        request.Timeseries.Add(samples);
        request.Timeseries.Add(exemplarsOnly);
        request.Timeseries.Add(invalidOnly);

        var result = await distributor.PushAsync("ws-a", request, CancellationToken.None);
        Assert.Equal(204, result.StatusCode);
        Assert.Equal(2, push.Series.Count);
        Assert.Single(push.Series[0].Timestamps);
        Assert.Empty(push.Series[0].Exemplars);
        Assert.Empty(push.Series[1].Timestamps);
        Assert.Equal("http_requests_total", push.Series[1].Labels.Get("__name__"));
        Assert.Equal(now - 10, Assert.Single(push.Series[1].Exemplars).T);
    }
}
