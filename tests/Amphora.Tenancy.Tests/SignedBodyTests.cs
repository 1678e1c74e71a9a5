using System.Net;
using System.Text;
using Amphora.Tenancy.Auth;
using Amphora.Tenancy.Keys;
using Microsoft.AspNetCore.Http;

namespace Amphora.Tenancy.Tests;

/// <summary>
/// Issue 13, finding 3: a SigV4 body is read only after the header, the date and the key have passed, and only up to the
/// endpoint's limit; finding 10: an unknown key, a disabled key and a wrong secret get the same 401.
/// </summary>
public sealed class SignedBodyTests : IAsyncLifetime
{
    private readonly TenancyFixture _f = new();
    private CreatedAccessKey _key = null!;
    private string _ws = "";

    public async Task InitializeAsync()
    {
        _ws = (await _f.Registry.CreateAsync("body", null, null)).WorkspaceId;
        _key = _f.Keys.Create(_ws, [ApsActions.RemoteWrite]);
    }

    public Task DisposeAsync()
    {
        _f.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A request body of <paramref name="length"/> bytes that counts how much of it was read.</summary>
    private sealed class CountingBody(long length) : Stream
    {
        public long Consumed { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => Consumed; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = (int)Math.Min(count, length - Consumed);
            Array.Fill(buffer, (byte)'x', offset, n);
            Consumed += n;
            return n;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private async Task<(int Status, long BodyRead, bool Reached, string Response)> SendAsync(string keyId, string secret, long bodyLength,
        bool declareLength)
    {
        var body = new CountingBody(bodyLength);
        var ctx = new DefaultHttpContext();
        string path = $"/workspaces/{_ws}/api/v1/remote_write";
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["host"] = "amphora.test" };
        // The signature is over an empty body: what matters here is what happens before the body is read.
        var signed = TestSigner.Sign("POST", path, "", headers, [], keyId, secret, "us-east-1", "aps", DateTimeOffset.UtcNow);
        ctx.Request.Method = "POST";
        ctx.Request.Path = path;
        ctx.Request.Headers.Host = "amphora.test";
        ctx.Request.Headers["X-Amz-Date"] = signed.AmzDate;
        ctx.Request.Headers.Authorization = signed.Authorization;
        if (declareLength) ctx.Request.ContentLength = bodyLength;
        ctx.Request.Body = body;
        var response = new MemoryStream();
        ctx.Response.Body = response;
        bool reached = false;
        var middleware = new AuthMiddleware(_ => { reached = true; return Task.CompletedTask; }, new Authenticator(_f.Keys, _f.Options),
            _f.Audit, _f.Options, _f.Registry);
        await middleware.InvokeAsync(ctx);
        return (ctx.Response.StatusCode, body.Consumed, reached, Encoding.UTF8.GetString(response.ToArray()));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_unknown_key_is_refused_without_reading_a_byte_of_a_60_MB_body(bool declareLength)
    {
        var (status, read, reached, _) = await SendAsync("AKIAUNKNOWNUNKNOWN00", "whatever", 60_000_000, declareLength);
        Assert.Equal(401, status);
        Assert.Equal(0, read);
        Assert.False(reached);
    }

    [Fact]
    public async Task A_disabled_key_is_refused_without_reading_the_body()
    {
        _f.Keys.SetEnabled(_key.Key.AccessKeyId, false);
        var (status, read, _, _) = await SendAsync(_key.Key.AccessKeyId, _key.SecretAccessKey, 60_000_000, declareLength: false);
        Assert.Equal(401, status);
        Assert.Equal(0, read);
    }

    [Fact]
    public async Task A_known_key_with_a_declared_length_over_the_limit_gets_413_without_reading_the_body()
    {
        var (status, read, reached, text) = await SendAsync(_key.Key.AccessKeyId, "wrong-secret", 60_000_000, declareLength: true);
        Assert.Equal(413, status);
        Assert.Equal(0, read);
        Assert.False(reached);
        Assert.Contains("distributor.max-recv-msg-size", text);
    }

    [Fact]
    public async Task A_known_key_with_an_undeclared_length_is_read_only_up_to_the_endpoint_limit()
    {
        var (status, read, reached, _) = await SendAsync(_key.Key.AccessKeyId, "wrong-secret", 60_000_000, declareLength: false);
        Assert.Equal(413, status);
        Assert.InRange(read, _f.Options.MaxSignedRemoteWriteBodyBytes, _f.Options.MaxSignedRemoteWriteBodyBytes + 64 * 1024);
        Assert.False(reached);
    }

    [Fact]
    public async Task Bodies_read_before_their_signature_is_checked_share_one_budget_and_beyond_it_get_503()
    {
        _f.Options.UnverifiedBodies = new UnverifiedBodyBudget(256 * 1024);
        // Three quarters of the budget held by requests still being read elsewhere.
        Assert.True(_f.Options.UnverifiedBodies.TryReserve(192 * 1024));
        var (status, read, reached, text) = await SendAsync(_key.Key.AccessKeyId, "wrong-secret", 1_000_000, declareLength: false);
        Assert.Equal(503, status);
        Assert.InRange(read, 0, 64 * 1024);
        Assert.False(reached);
        Assert.Contains("auth.sigv4-max-unverified-bytes", text);
        // What this request reserved went back; so does a refused signature's and, once checked, a good one's.
        Assert.Equal(192 * 1024, _f.Options.UnverifiedBodies.Used);
        _f.Options.UnverifiedBodies.Release(192 * 1024);
        (status, _, _, _) = await SendAsync(_key.Key.AccessKeyId, "wrong-secret", 100_000, declareLength: true);
        Assert.Equal(401, status);
        Assert.Equal(0, _f.Options.UnverifiedBodies.Used);
    }

    [Fact]
    public async Task A_wrong_signature_over_a_body_within_the_limit_is_401_and_the_endpoint_never_runs()
    {
        var (status, read, reached, text) = await SendAsync(_key.Key.AccessKeyId, "wrong-secret", 1000, declareLength: true);
        Assert.Equal(401, status);
        Assert.Equal(1000, read);
        Assert.False(reached);
        Assert.Contains(Authenticator.InvalidCredentials, text);
    }

    [Fact]
    public async Task Unknown_keys_disabled_keys_and_wrong_secrets_get_the_same_status_body_and_challenge()
    {
        var disabled = _f.Keys.Create(_ws, [ApsActions.RemoteWrite]);
        _f.Keys.SetEnabled(disabled.Key.AccessKeyId, false);
        await using var server = await TestServer.StartAsync(_f);
        string path = $"/workspaces/{_ws}/api/v1/remote_write";
        var answers = new List<(HttpStatusCode, string, string)>();
        foreach (var (id, secret) in new[]
                 {
                     ("AKIAUNKNOWNUNKNOWN00", "x"), (_key.Key.AccessKeyId, "wrong"), (disabled.Key.AccessKeyId, disabled.SecretAccessKey),
                 })
        {
            foreach (var auth in new[] { Http.Basic(id, secret), Http.Bearer(id, secret) })
            {
                using var response = await server.Client.SendAsync(Http.Request(HttpMethod.Post, path, auth, "x"));
                answers.Add((response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.WwwAuthenticate.ToString()));
            }
            var headers = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["host"] = server.BaseAddress.Authority };
            var signed = TestSigner.Sign("POST", path, "", headers, "x"u8.ToArray(), id, secret, "us-east-1", "aps", DateTimeOffset.UtcNow);
            var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("x") };
            req.Headers.TryAddWithoutValidation("Authorization", signed.Authorization);
            req.Headers.Add("X-Amz-Date", signed.AmzDate);
            using var sigv4 = await server.Client.SendAsync(req);
            answers.Add((sigv4.StatusCode, await sigv4.Content.ReadAsStringAsync(), sigv4.Headers.WwwAuthenticate.ToString()));
        }
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Unauthorized, a.Item1));
        Assert.Single(answers.Select(a => a.Item2).Distinct());
        Assert.Single(answers.Select(a => a.Item3).Distinct());
        Assert.Contains(Authenticator.InvalidCredentials, answers[0].Item2);
        Assert.Contains("Basic realm=\"amphora\"", answers[0].Item3);
    }
}
