using Amphora.Model;
using Amphora.Querier.Tests.Support;
using Xunit;

namespace Amphora.Querier.Tests.Api;

/// <summary>
/// Native histograms in query results are written as Prometheus writes them: a vector sample's "histogram", a matrix
/// series' "histograms" next to (or instead of) its "values", count and sum as strings, and the populated buckets with
/// their boundary rule (0 for (a,b], 1 for [a,b), 3 for the closed zero bucket).
/// </summary>
public sealed class HistogramRenderingTests : IAsyncLifetime
{
    private ApiServer _server = null!;
    private const string Prefix = "/workspaces/ws-a/api/v1/";

    public async Task InitializeAsync()
    {
        var storage = MemoryStorage.Sample();
        // schema 0: [-1,-0.5) holds 1, the zero bucket [-0.001,0.001] 1, (0.5,1] 1, (1,2] 2, (2,4] 1.
        FloatHistogram At(int k) => new()
        {
            CounterResetHint = CounterResetHint.Gauge,
            Count = 6 + k, Sum = 5 + k, ZeroThreshold = 0.001, ZeroCount = 1,
            PositiveSpans = [new HistogramSpan(0, 3)], PositiveBuckets = [1, 2 + k, 1],
            NegativeSpans = [new HistogramSpan(0, 1)], NegativeBuckets = [1],
        };
        storage.Add(Labels.FromStrings("__name__", "req_seconds", "job", "api"), [0, 60_000, 120_000], [At(0), At(1), At(2)]);
        _server = await ApiServer.StartAsync(storage);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private const string Buckets = "[1,\"-1\",\"-0.5\",\"1\"],[3,\"-0.001\",\"0.001\",\"1\"],[0,\"0.5\",\"1\",\"1\"]";

    [Fact]
    public async Task An_instant_vector_sample_is_a_histogram_field()
    {
        string body = await _server.Http.GetStringAsync(Prefix + "query?time=60&query=req_seconds");
        Assert.Equal(
            "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"__name__\":\"req_seconds\",\"job\":\"api\"}," +
            "\"histogram\":[60,{\"count\":\"7\",\"sum\":\"6\",\"buckets\":[" + Buckets + ",[0,\"1\",\"2\",\"3\"],[0,\"2\",\"4\",\"1\"]]}]}]}}", body);
    }

    [Fact]
    public async Task A_range_query_writes_histograms_and_floats_apart()
    {
        string body = await _server.Http.GetStringAsync(Prefix + "query_range?start=60&end=120&step=60&query=req_seconds%20or%20vector(1)");
        Assert.Equal(
            "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},\"values\":[[60,\"1\"],[120,\"1\"]]}," +
            "{\"metric\":{\"__name__\":\"req_seconds\",\"job\":\"api\"},\"histograms\":[" +
            "[60,{\"count\":\"7\",\"sum\":\"6\",\"buckets\":[" + Buckets + ",[0,\"1\",\"2\",\"3\"],[0,\"2\",\"4\",\"1\"]]}]," +
            "[120,{\"count\":\"8\",\"sum\":\"7\",\"buckets\":[" + Buckets + ",[0,\"1\",\"2\",\"4\"],[0,\"2\",\"4\",\"1\"]]}]]}]}}", body);
    }

    [Fact]
    public async Task Annotations_come_back_as_warnings_and_infos()
    {
        string body = await _server.Http.GetStringAsync(Prefix + "query?time=120&query=rate(req_seconds%5B5m%5D)%20or%20max(req_seconds)");
        Assert.Contains("\"warnings\":[\"PromQL warning: this native histogram metric is not a counter: \\\"req_seconds\\\"\"]", body);
        Assert.Contains("\"infos\":[\"PromQL info: ignored histogram in max aggregation\"]", body);
    }
}
