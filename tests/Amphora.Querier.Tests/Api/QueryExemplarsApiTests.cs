using System.Net;
using Amphora.Model;
using Amphora.Querier.Tests.Support;
using Amphora.Storage;
using Xunit;

namespace Amphora.Querier.Tests.Api;

/// <summary>
/// Issue 21: <c>/api/v1/query_exemplars</c> in Prometheus's shape: each vector selector of the query selects series (the
/// rest of the query is only parsed), the range is start..end, timestamps print as sample timestamps and values as strings.
/// </summary>
public sealed class QueryExemplarsApiTests
{
    private sealed class Recording : IWorkspaceExemplars
    {
        public List<(string Workspace, long Start, long End, string Matchers)> Calls { get; } = new();

        public ValueTask<IReadOnlyList<ExemplarSeries>> SelectExemplarsAsync(string workspace, long start, long end,
            IReadOnlyList<IReadOnlyList<LabelMatcher>> matcherSets, CancellationToken ct = default)
        {
            Calls.Add((workspace, start, end, string.Join(" | ", matcherSets.Select(set => string.Join(",", set.Select(m => m.ToString()))))));
            IReadOnlyList<ExemplarSeries> found =
            [
                new(Labels.FromStrings("__name__", "http_request_duration_seconds_bucket", "le", "0.5"),
                [
                    new(Labels.FromStrings("trace_id", "EpTxMJ40fUus7aGY"), 6, 1600096945479),
                    new(Labels.FromStrings("span_id", "a\"b", "trace_id", "x"), double.PositiveInfinity, 1600096946000),
                ]),
            ];
            return ValueTask.FromResult(found);
        }
    }

    [Fact]
    public async Task Exemplars_are_answered_in_Prometheus_s_shape_for_the_query_s_selectors()
    {
        var exemplars = new Recording();
        await using var server = await ApiServer.StartAsync(MemoryStorage.Sample(), exemplars: exemplars);
        var response = await server.Http.GetAsync(
            "/workspaces/ws-a/api/v1/query_exemplars?query=" + Uri.EscapeDataString("histogram_quantile(0.9, rate(http_request_duration_seconds_bucket{job=\"api\"}[5m])) / on() group_left sum(up)") +
            "&start=1600096900&end=1600097000.5");
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            "{\"status\":\"success\",\"data\":[{\"seriesLabels\":{\"__name__\":\"http_request_duration_seconds_bucket\",\"le\":\"0.5\"},\"exemplars\":[" +
            "{\"labels\":{\"trace_id\":\"EpTxMJ40fUus7aGY\"},\"value\":\"6\",\"timestamp\":1600096945.479}," +
            "{\"labels\":{\"span_id\":\"a\\\"b\",\"trace_id\":\"x\"},\"value\":\"+Inf\",\"timestamp\":1600096946}]}]}", body);
        var call = Assert.Single(exemplars.Calls);
        Assert.Equal(("ws-a", 1600096900000L, 1600097000500L), (call.Workspace, call.Start, call.End));
        Assert.Equal("__name__=\"http_request_duration_seconds_bucket\",job=\"api\" | __name__=\"up\"", call.Matchers);
    }

    [Fact]
    public async Task A_query_without_selectors_answers_an_empty_list_and_a_bad_query_is_bad_data()
    {
        var exemplars = new Recording();
        await using var server = await ApiServer.StartAsync(MemoryStorage.Sample(), exemplars: exemplars);
        var empty = await server.Http.GetStringAsync("/workspaces/ws-a/api/v1/query_exemplars?query=1%2B1");
        Assert.Equal("{\"status\":\"success\",\"data\":[]}", empty);
        Assert.Empty(exemplars.Calls);

        var bad = await server.Http.GetAsync("/workspaces/ws-a/api/v1/query_exemplars?query=sum(");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("invalid parameter \\\"query\\\"", await bad.Content.ReadAsStringAsync());
        var backwards = await server.Http.GetAsync("/workspaces/ws-a/api/v1/query_exemplars?query=up&start=10&end=5");
        Assert.Equal(HttpStatusCode.BadRequest, backwards.StatusCode);
    }
}
