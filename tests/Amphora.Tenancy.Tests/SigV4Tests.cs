using System.Text;
using Amphora.Tenancy.Auth;
using Amphora.Tenancy.Keys;
using Microsoft.AspNetCore.Http;

namespace Amphora.Tenancy.Tests;

public sealed class SigV4Tests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TenancyFixture _f = new(o => o.SigV4Regions = ["us-east-1", "eu-west-1"]);
    private readonly ManualClock _clock = new(Now);
    private readonly CreatedAccessKey _key;
    private readonly Authenticator _auth;

    public SigV4Tests()
    {
        _key = _f.Keys.Create("ws-a", [ApsActions.RemoteWrite]);
        _auth = new Authenticator(_f.Keys, _f.Options, _clock);
    }

    public void Dispose() => _f.Dispose();

    private const string Path = "/workspaces/ws-a/api/v1/remote_write";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("snappy-compressed protobuf would be here");

    private (AuthRequest Request, TestSigner.Signed Signed) SignedRequest(string region = "us-east-1", string service = "aps",
        DateTimeOffset? at = null, string? secret = null, string query = "", string path = Path)
    {
        var toSign = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = "amphora.example:9009",
            ["content-type"] = "application/x-protobuf",
        };
        var signed = TestSigner.Sign("POST", path, query, toSign, Body, _key.Key.AccessKeyId, secret ?? _key.SecretAccessKey, region, service, at ?? Now);
        var headers = new HeaderDictionary
        {
            ["Host"] = "amphora.example:9009",
            ["Content-Type"] = "application/x-protobuf",
            ["X-Amz-Date"] = signed.AmzDate,
            ["Authorization"] = signed.Authorization,
        };
        return (new AuthRequest { Method = "POST", RawPath = path, RawQuery = query, Headers = headers, Body = Body }, signed);
    }

    [Fact]
    public void A_request_signed_as_the_AWS_specification_describes_is_accepted()
    {
        var result = _auth.Authenticate(SignedRequest().Request);
        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal(_key.Key.AccessKeyId, result.Key!.AccessKeyId);
        Assert.Equal("sigv4", result.Scheme);
    }

    [Fact]
    public void A_signed_query_string_is_canonicalized_sorted_and_encoded()
    {
        var result = _auth.Authenticate(SignedRequest(query: "start=1&query=up%7Bjob%3D%22a%20b%22%7D&end=2").Request);
        Assert.True(result.Succeeded, result.Reason);
    }

    [Fact]
    public void A_percent_encoded_path_is_encoded_again_as_AWS_services_other_than_S3_do()
    {
        var result = _auth.Authenticate(SignedRequest(path: "/tags/arn%3Aaws%3Aaps%3Alocal%3A000000000000%3Aworkspace%2Fws-a").Request);
        Assert.True(result.Succeeded, result.Reason);
    }

    [Fact]
    public void The_signing_functions_reproduce_the_AWS_get_vanilla_test_vector()
    {
        var headers = new HeaderDictionary { ["Host"] = "example.amazonaws.com", ["X-Amz-Date"] = "20150830T123600Z" };
        string canonical = SigV4.CanonicalRequest("GET", SigV4.CanonicalUri("/", true), "", headers, ["host", "x-amz-date"], SigV4.EmptyBodySha256);
        string toSign = SigV4.StringToSign("20150830T123600Z", "20150830/us-east-1/service/aws4_request", canonical);
        var key = SigV4.SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"u8, "20150830", "us-east-1", "service");
        Assert.Equal("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", SigV4.Sign(key, toSign));
    }

    [Fact]
    public void A_tampered_body_is_rejected()
    {
        var (request, _) = SignedRequest();
        var tampered = new AuthRequest { Method = request.Method, RawPath = request.RawPath, Headers = request.Headers, Body = Encoding.UTF8.GetBytes("other body") };
        var result = _auth.Authenticate(tampered);
        Assert.Equal(AuthFailure.BadCredentials, result.Failure);
    }

    [Fact]
    public void A_content_hash_header_that_does_not_match_the_body_is_rejected()
    {
        var (request, _) = SignedRequest();
        request.Headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
        Assert.Equal(AuthFailure.Malformed, _auth.Authenticate(request).Failure);
        request.Headers["x-amz-content-sha256"] = new string('0', 64);
        Assert.Equal(AuthFailure.BadCredentials, _auth.Authenticate(request).Failure);
    }

    [Fact]
    public void A_tampered_signed_header_is_rejected()
    {
        var (request, _) = SignedRequest();
        request.Headers["Content-Type"] = "text/plain";
        Assert.Equal(AuthFailure.BadCredentials, _auth.Authenticate(request).Failure);
    }

    [Fact]
    public void A_tampered_path_is_rejected()
    {
        var (request, _) = SignedRequest();
        var moved = new AuthRequest { Method = "POST", RawPath = "/workspaces/ws-b/api/v1/remote_write", Headers = request.Headers, Body = Body };
        Assert.Equal(AuthFailure.BadCredentials, _auth.Authenticate(moved).Failure);
    }

    [Fact]
    public void A_wrong_secret_is_rejected()
    {
        Assert.Equal(AuthFailure.BadCredentials, _auth.Authenticate(SignedRequest(secret: "not-the-secret").Request).Failure);
    }

    [Fact]
    public void A_region_that_is_not_configured_is_rejected()
    {
        Assert.Equal(AuthFailure.WrongScope, _auth.Authenticate(SignedRequest(region: "ap-south-1").Request).Failure);
        Assert.True(_auth.Authenticate(SignedRequest(region: "eu-west-1").Request).Succeeded);
    }

    [Fact]
    public void Another_service_is_rejected()
    {
        Assert.Equal(AuthFailure.WrongScope, _auth.Authenticate(SignedRequest(service: "s3").Request).Failure);
    }

    [Theory]
    [InlineData(-6)]
    [InlineData(6)]
    public void A_signature_dated_more_than_five_minutes_away_is_rejected(int minutes)
    {
        var result = _auth.Authenticate(SignedRequest(at: Now.AddMinutes(minutes)).Request);
        Assert.Equal(AuthFailure.Expired, result.Failure);
    }

    [Fact]
    public void A_signature_dated_four_minutes_ago_is_accepted()
    {
        Assert.True(_auth.Authenticate(SignedRequest(at: Now.AddMinutes(-4)).Request).Succeeded);
    }

    [Fact]
    public void Two_identical_requests_in_the_same_second_both_pass_and_the_window_is_five_minutes_as_with_AWS()
    {
        // AWS keeps no replay cache: a signature is valid within the clock-skew window, so a sender's identical retry passes.
        var (request, _) = SignedRequest();
        Assert.True(_auth.Authenticate(request).Succeeded);
        Assert.True(_auth.Authenticate(request).Succeeded);
        _clock.Advance(TimeSpan.FromMinutes(4.9));
        Assert.True(_auth.Authenticate(request).Succeeded);
        _clock.Advance(TimeSpan.FromMinutes(0.2));
        Assert.Equal(AuthFailure.Expired, _auth.Authenticate(request).Failure);
    }

    [Fact]
    public void A_signed_header_missing_from_the_request_is_refused_before_the_body_is_needed()
    {
        var (request, _) = SignedRequest();
        request.Headers.Remove("Content-Type");
        var begun = _auth.BeginSigV4(request);
        Assert.Equal(AuthFailure.Malformed, begun.Failed?.Failure);
        Assert.Contains("content-type", begun.Failed!.Reason);
    }

    [Fact]
    public void An_unknown_or_disabled_key_is_refused_before_the_body_with_the_answer_a_wrong_signature_gets()
    {
        var (unknown, signed) = SignedRequest();
        unknown.Headers.Authorization = signed.Authorization.Replace(_key.Key.AccessKeyId, "AKIAUNKNOWNUNKNOWN00");
        var unknownBegun = _auth.BeginSigV4(unknown);
        Assert.Null(unknownBegun.Pending);
        Assert.Equal(AuthFailure.UnknownKey, unknownBegun.Failed!.Failure);

        var wrong = _auth.Authenticate(SignedRequest(secret: "not-the-secret").Request);
        Assert.Equal(AuthFailure.BadCredentials, wrong.Failure);
        _f.Keys.SetEnabled(_key.Key.AccessKeyId, false);
        var disabled = _auth.BeginSigV4(SignedRequest().Request);
        Assert.Equal(AuthFailure.DisabledKey, disabled.Failed!.Failure);

        Assert.Equal(Authenticator.InvalidCredentials, unknownBegun.Failed.PublicReason);
        Assert.Equal(Authenticator.InvalidCredentials, wrong.PublicReason);
        Assert.Equal(Authenticator.InvalidCredentials, disabled.Failed.PublicReason);
        Assert.DoesNotContain(_key.Key.AccessKeyId, wrong.PublicReason);
    }

    [Fact]
    public void A_disabled_key_is_rejected_even_with_a_good_signature()
    {
        _f.Keys.SetEnabled(_key.Key.AccessKeyId, false);
        Assert.Equal(AuthFailure.DisabledKey, _auth.Authenticate(SignedRequest().Request).Failure);
    }

    [Fact]
    public void An_unknown_key_is_rejected()
    {
        var (request, signed) = SignedRequest();
        request.Headers.Authorization = signed.Authorization.Replace(_key.Key.AccessKeyId, "AKIAUNKNOWNUNKNOWN00");
        Assert.Equal(AuthFailure.UnknownKey, _auth.Authenticate(request).Failure);
    }

    [Fact]
    public void Signed_headers_must_cover_host_and_date()
    {
        var (request, signed) = SignedRequest();
        request.Headers.Authorization = signed.Authorization.Replace("SignedHeaders=content-type;host;x-amz-date", "SignedHeaders=content-type;host");
        Assert.Equal(AuthFailure.Malformed, _auth.Authenticate(request).Failure);
    }
}
