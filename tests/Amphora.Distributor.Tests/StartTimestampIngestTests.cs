using System.Net;
using System.Net.Http.Headers;
using Amphora.Distributor.Otlp.Proto;
using Google.Protobuf;
using Xunit;
using static Amphora.Distributor.Tests.Otlp.OtlpRequests;
using V2 = Amphora.Distributor.PrompbV2;

namespace Amphora.Distributor.Tests;

/// <summary>
/// Start timestamps reach the validated series the ingesters get: remote write 2.0's per-sample start timestamp (else the
/// series' created timestamp of the earlier drafts) and OTLP's start_time_unix_nano (an unknown start, equal to the point's
/// time, is none); samples without one carry none.
/// </summary>
public sealed class StartTimestampIngestTests : IAsyncDisposable
{
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private readonly RecordingPush _push = new();
    private TestEndpoint? _endpoint;

    public async ValueTask DisposeAsync()
    {
        if (_endpoint is not null) await _endpoint.DisposeAsync();
    }

    [Fact]
    public async Task Remote_write_2_start_timestamps_and_created_timestamps_are_kept_per_sample()
    {
        _endpoint = await TestEndpoint.StartAsync(app => app.MapRemoteWrite(Distributors.Create(_push)));
        var r = new V2.Request();
        foreach (var s in new[] { "", "__name__", "deltas_total", "cumulative_total", "gauge" }) r.Symbols.Add(ByteString.CopyFromUtf8(s));
        var deltas = new V2.TimeSeries();
        deltas.LabelsRefs.Add([1, 2]);
        deltas.Samples.Add(new V2.Sample { Timestamp = Now - 1000, Value = 3, StartTimestamp = Now - 2000 });
        deltas.Samples.Add(new V2.Sample { Timestamp = Now, Value = 4, StartTimestamp = Now - 1000 });
        var cumulative = new V2.TimeSeries { CreatedTimestamp = Now - 60_000 };
        cumulative.LabelsRefs.Add([1, 3]);
        cumulative.Samples.Add(new V2.Sample { Timestamp = Now - 1000, Value = 10 });
        cumulative.Samples.Add(new V2.Sample { Timestamp = Now, Value = 1, StartTimestamp = Now - 500 }); // restarted
        var gauge = new V2.TimeSeries();
        gauge.LabelsRefs.Add([1, 4]);
        gauge.Samples.Add(new V2.Sample { Timestamp = Now, Value = 21.5 });
        r.Timeseries.Add([deltas, cumulative, gauge]);

        var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/push") { Content = new ByteArrayContent(Distributors.Snappy(r.ToByteArray())) };
        req.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-protobuf;proto=io.prometheus.write.v2.Request");
        req.Content.Headers.ContentEncoding.Add("snappy");
        req.Headers.Add("X-Scope-OrgID", "ws-st");
        Assert.Equal(HttpStatusCode.NoContent, (await _endpoint.Http.SendAsync(req)).StatusCode);

        var byName = _push.Series.ToDictionary(s => s.Labels.MetricName);
        Assert.Equal([Now - 2000, Now - 1000], byName["deltas_total"].StartTimestamps!);
        Assert.Equal([Now - 60_000, Now - 500], byName["cumulative_total"].StartTimestamps!);
        Assert.Null(byName["gauge"].StartTimestamps);
    }

    [Fact]
    public void Otlp_start_times_become_start_timestamps_and_an_unknown_start_is_none()
    {
        var known = Number(5, T); // its start is a minute before the point
        var unknown = Number(7, T, Attr("route", "/b"));
        unknown.StartTimeUnixNano = unknown.TimeUnixNano;
        var t = Translate(Request(Service, Sum("http.server.requests", "{request}", true, AggregationTemporality.Cumulative, known, unknown)));
        var starts = t.Request.Timeseries.Select(ts => Assert.Single(ts.Samples).StartTimestamp).Order().ToList();
        Assert.Equal([0, Ms - 60_000], starts);
    }
}
