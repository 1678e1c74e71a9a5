using System.Net;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Foundation;

/// <summary>
/// One error shape per API family, never an empty body: Prometheus's JSON under the query API and <c>/api/v1/</c>, AMP's
/// <c>{"message"}</c> with <c>x-amzn-ErrorType</c> on the control plane, also for routes and methods that do not exist.
/// Remote write is under <c>/api/v1/</c> and answers in Prometheus's JSON too.
/// </summary>
public sealed class ErrorShapeTests : IAsyncLifetime
{
    private AmphoraProcess _amphora = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _amphora = AmphoraProcess.Start();
        await _amphora.WaitReadyAsync();
        _http = new HttpClient { BaseAddress = _amphora.BaseAddress };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _amphora.TerminateAsync(TimeSpan.FromSeconds(30));
        _amphora.Dispose();
    }

    [Theory]
    [InlineData("GET", "/prometheus/api/v1/no_such_api", 404, "not_found", "no such endpoint: GET /prometheus/api/v1/no_such_api")]
    [InlineData("GET", "/workspaces/default/api/v1/no_such_api", 404, "not_found", "no such endpoint")]
    [InlineData("GET", "/api/v1/query", 404, "not_found", "no such endpoint: GET /api/v1/query")]
    [InlineData("DELETE", "/prometheus/api/v1/query", 405, "bad_data", "method DELETE is not allowed on /prometheus/api/v1/query; allowed: GET, POST")]
    [InlineData("GET", "/prometheus/api/v1/query", 400, "bad_data", "parse error")]
    public async Task The_query_api_answers_in_prometheus_json(string method, string path, int status, string errorType, string message)
    {
        using var r = await _http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Headers = { { "X-Scope-OrgID", "default" } } });
        await AssertPrometheusErrorAsync(r, status, errorType, message);
    }

    [Theory]
    [InlineData("GET", "/workspaces/ws-none", 404, "ResourceNotFoundException", "ws-none")]
    [InlineData("PUT", "/workspaces", 405, "UnknownOperationException", "method PUT is not allowed on /workspaces")]
    [InlineData("GET", "/workspaces/default/no_such_thing", 404, "UnknownOperationException", "no such endpoint")]
    [InlineData("GET", "/no_such_path", 404, "UnknownOperationException", "no such endpoint: GET /no_such_path")]
    public async Task The_control_plane_and_anything_else_answers_as_aws_does(string method, string path, int status, string errorType, string message)
    {
        using var r = await _http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        string body = await r.Content.ReadAsStringAsync();
        Assert.Equal(status, (int)r.StatusCode);
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal(errorType, r.Headers.GetValues("x-amzn-ErrorType").Single());
        Assert.Contains(message, JsonDocument.Parse(body).RootElement.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("/api/v1/push", "text/plain", 415, "bad_data", "unsupported Content-Type \"text/plain\"")]
    [InlineData("/workspaces/default/api/v1/remote_write", "application/x-protobuf;proto=io.prometheus.write.v3.Request", 415, "bad_data", "remote write 2.0")]
    [InlineData("/workspaces/bad%20id/api/v1/remote_write", "application/x-protobuf", 400, "bad_data", "invalid workspace id")]
    public async Task Remote_write_errors_answer_in_prometheus_json(string path, string contentType, int status, string errorType, string message)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent([1, 2, 3]) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Content.Headers.ContentEncoding.Add("snappy");
        request.Headers.Add("X-Scope-OrgID", "default");
        using var r = await _http.SendAsync(request);
        await AssertPrometheusErrorAsync(r, status, errorType, message);
    }

    private static async Task AssertPrometheusErrorAsync(HttpResponseMessage r, int status, string errorType, string message)
    {
        string body = await r.Content.ReadAsStringAsync();
        Assert.Equal(status, (int)r.StatusCode);
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal("error", json.GetProperty("status").GetString());
        Assert.Equal(errorType, json.GetProperty("errorType").GetString());
        Assert.Contains(message, json.GetProperty("error").GetString());
    }
}
