using System.Net;
using System.Text;
using Amphora.Tenancy.Keys;

namespace Amphora.Tenancy.Tests;

/// <summary>SigV4-signed requests through Kestrel and the middleware, signed by the test's own signer.</summary>
public sealed class SigV4HttpTests : IAsyncLifetime
{
    private readonly TenancyFixture _f = new();
    private TestServer _server = null!;
    private CreatedAccessKey _key = null!;
    private string _ws = "";
    private int _nextStatus = 204;

    public async Task InitializeAsync()
    {
        _ws = (await _f.Registry.CreateAsync("sig", null, null)).WorkspaceId;
        _key = _f.Keys.Create(_ws, [ApsActions.RemoteWrite, ApsActions.QueryMetrics]);
        _server = await TestServer.StartAsync(_f, remoteWriteStatus: _ => _nextStatus);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _f.Dispose();
    }

    private HttpRequestMessage Signed(HttpMethod method, string path, string query, byte[] body, string? secret = null)
    {
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["host"] = _server.BaseAddress.Authority };
        var signed = TestSigner.Sign(method.Method, path, query, headers, body, _key.Key.AccessKeyId, secret ?? _key.SecretAccessKey,
            "us-west-2", "aps", DateTimeOffset.UtcNow);
        var req = new HttpRequestMessage(method, path + (query.Length > 0 ? "?" + query : ""));
        req.Headers.TryAddWithoutValidation("Authorization", signed.Authorization);
        req.Headers.Add("X-Amz-Date", signed.AmzDate);
        if (method != HttpMethod.Get) req.Content = new ByteArrayContent(body);
        return req;
    }

    [Fact]
    public async Task A_signed_remote_write_is_accepted_and_its_body_still_reaches_the_endpoint()
    {
        byte[] body = Encoding.UTF8.GetBytes("payload-1");
        var response = await _server.Client.SendAsync(Signed(HttpMethod.Post, $"/workspaces/{_ws}/api/v1/remote_write", "", body));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(["payload-1"], _server.WrittenTo(_ws));
    }

    [Fact]
    public async Task A_signed_query_with_parameters_is_accepted()
    {
        var response = await _server.Client.SendAsync(Signed(HttpMethod.Get, $"/workspaces/{_ws}/api/v1/query", "query=sum%20by%20%28job%29%20%28up%29&time=1700000000", []));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_wrong_secret_is_refused_with_401_and_nothing_is_stored_and_an_identical_retry_of_a_good_request_passes()
    {
        byte[] body = Encoding.UTF8.GetBytes("payload-2");
        var wrong = await _server.Client.SendAsync(Signed(HttpMethod.Post, $"/workspaces/{_ws}/api/v1/remote_write", "", body, "wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Empty(_server.WrittenTo(_ws));

        // Two identical requests in the same second (a sender's retry): both pass, as with AWS (no replay cache).
        var first = Signed(HttpMethod.Post, $"/workspaces/{_ws}/api/v1/remote_write", "", body);
        var again = new HttpRequestMessage(HttpMethod.Post, first.RequestUri) { Content = new ByteArrayContent(body) };
        foreach (var h in first.Headers) again.Headers.TryAddWithoutValidation(h.Key, h.Value);
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.SendAsync(first)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.SendAsync(again)).StatusCode);
        Assert.Equal(["payload-2", "payload-2"], _server.WrittenTo(_ws));
    }

    [Fact]
    public async Task A_signed_body_over_the_endpoint_limit_gets_413_naming_the_setting()
    {
        byte[] body = new byte[(int)_f.Options.MaxSignedRemoteWriteBodyBytes + 1];
        var response = await _server.Client.SendAsync(Signed(HttpMethod.Post, $"/workspaces/{_ws}/api/v1/remote_write", "", body));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("distributor.max-recv-msg-size", await response.Content.ReadAsStringAsync());
        Assert.Empty(_server.WrittenTo(_ws));
    }
}
