using System.Security.Cryptography;
using System.Text;
using Amphora.Tenancy.Keys;

namespace Amphora.Tenancy.Auth;

/// <summary>
/// Proves which access key sent a request: HTTP basic auth (key id and secret), <c>Authorization: Bearer &lt;id&gt;:&lt;secret&gt;</c>,
/// or an AWS Signature Version 4 signature for service <c>aps</c>. Secrets and signatures are compared in constant time. A
/// SigV4 request must be dated within the allowed clock skew and each signature is accepted once (see <see cref="ReplayCache"/>).
/// Pure of HTTP plumbing, thread-safe.
/// </summary>
public sealed class Authenticator(KeyStore keys, TenancyOptions options, ReplayCache? replay = null, TimeProvider? time = null)
{
    public const string Service = "aps";

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private static readonly byte[] DummySecret = RandomNumberGenerator.GetBytes(40);

    public ReplayCache Replay { get; } = replay ?? new ReplayCache(time);

    public AuthResult Authenticate(AuthRequest request)
    {
        string header = request.Headers.Authorization.ToString();
        if (header.Length == 0) return AuthResult.Fail(AuthFailure.Missing, "no credentials: send basic auth, a bearer token or an AWS SigV4 signature");
        if (header.StartsWith(SigV4.Algorithm + " ", StringComparison.Ordinal)) return AuthenticateSigV4(request, header);
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return AuthenticateBasic(header);
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateSecret("bearer", header[7..].Trim());
        return AuthResult.Fail(AuthFailure.Malformed, "unsupported authorization scheme: use Basic, Bearer or AWS4-HMAC-SHA256");
    }

    private AuthResult AuthenticateBasic(string header)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            return AuthResult.Fail(AuthFailure.Malformed, "malformed basic credentials", "basic");
        }
        return AuthenticateSecret("basic", decoded);
    }

    /// <summary>Checks "id:secret".</summary>
    private AuthResult AuthenticateSecret(string scheme, string idAndSecret)
    {
        int colon = idAndSecret.IndexOf(':');
        if (colon <= 0) return AuthResult.Fail(AuthFailure.Malformed, $"{scheme} credentials must be <access key id>:<secret>", scheme);
        string id = idAndSecret[..colon];
        byte[] given = Encoding.UTF8.GetBytes(idAndSecret[(colon + 1)..]);
        if (!keys.TryGetSecret(id, out var key, out var secret))
        {
            CryptographicOperations.FixedTimeEquals(given, DummySecret);
            return AuthResult.Fail(AuthFailure.UnknownKey, $"unknown access key {SafeId(id)}", scheme, SafeId(id));
        }
        bool ok = CryptographicOperations.FixedTimeEquals(given, secret);
        CryptographicOperations.ZeroMemory(given);
        if (!ok) return AuthResult.Fail(AuthFailure.BadCredentials, $"wrong secret for access key {id}", scheme, id);
        if (!key.Enabled) return AuthResult.Fail(AuthFailure.DisabledKey, $"access key {id} is disabled", scheme, id);
        return new AuthResult { Key = key, Scheme = scheme, ClaimedKeyId = id };
    }

    private AuthResult AuthenticateSigV4(AuthRequest request, string header)
    {
        const string scheme = "sigv4";
        if (!SigV4.TryParseAuthorization(header, out var auth, out string reason))
            return AuthResult.Fail(AuthFailure.Malformed, reason, scheme);
        string id = auth!.AccessKeyId;
        if (auth.Service != Service || auth.Terminator != "aws4_request")
            return AuthResult.Fail(AuthFailure.WrongScope, $"credential scope {auth.Scope} is not for service \"{Service}\"", scheme, SafeId(id));
        if (options.SigV4Regions.Count > 0 && !options.SigV4Regions.Contains(auth.Region))
            return AuthResult.Fail(AuthFailure.WrongScope, $"region \"{auth.Region}\" is not accepted (accepted: {string.Join(", ", options.SigV4Regions)})", scheme, SafeId(id));
        if (!auth.SignedHeaders.Contains("host") || !auth.SignedHeaders.Contains("x-amz-date"))
            return AuthResult.Fail(AuthFailure.Malformed, "SignedHeaders must include host and x-amz-date", scheme, SafeId(id));

        string amzDate = request.Headers["x-amz-date"].ToString();
        if (!SigV4.TryParseDate(amzDate, out var signedAt))
            return AuthResult.Fail(AuthFailure.Expired, "x-amz-date is missing or not in the form yyyyMMddTHHmmssZ", scheme, SafeId(id));
        var now = _time.GetUtcNow();
        if ((now - signedAt).Duration() > options.MaxClockSkew)
            return AuthResult.Fail(AuthFailure.Expired, $"signature date {amzDate} is more than {options.MaxClockSkew.TotalMinutes:0} minutes from the server time {now:yyyyMMdd'T'HHmmss'Z'}", scheme, SafeId(id));
        if (auth.Date != amzDate[..8])
            return AuthResult.Fail(AuthFailure.Malformed, $"credential scope date {auth.Date} does not match x-amz-date {amzDate}", scheme, SafeId(id));

        string bodyHash = Convert.ToHexStringLower(SHA256.HashData(request.Body.Span));
        string claimed = request.Headers["x-amz-content-sha256"].ToString();
        if (claimed.Length > 0 && !string.Equals(claimed, bodyHash, StringComparison.OrdinalIgnoreCase))
            return AuthResult.Fail(AuthFailure.BadCredentials, "x-amz-content-sha256 does not match the request body (unsigned payloads are not accepted)", scheme, SafeId(id));

        if (!keys.TryGetSecret(id, out var key, out var secret))
            return AuthResult.Fail(AuthFailure.UnknownKey, $"unknown access key {SafeId(id)}", scheme, SafeId(id));

        byte[] signingKey = SigV4.SigningKey(secret, auth.Date, auth.Region, auth.Service);
        string payloadHash = claimed.Length > 0 ? claimed : bodyHash;
        bool match = false;
        foreach (bool doubleEncode in (ReadOnlySpan<bool>)[true, false])
        {
            string canonical = SigV4.CanonicalRequest(request.Method, SigV4.CanonicalUri(request.RawPath, doubleEncode), request.RawQuery,
                request.Headers, auth.SignedHeaders, payloadHash);
            string expected = SigV4.Sign(signingKey, SigV4.StringToSign(amzDate, auth.Scope, canonical));
            if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(auth.Signature))) { match = true; break; }
        }
        CryptographicOperations.ZeroMemory(signingKey);
        if (!match)
            return AuthResult.Fail(AuthFailure.BadCredentials, $"the request signature does not match the signature computed for access key {id}", scheme, id);
        if (!key.Enabled) return AuthResult.Fail(AuthFailure.DisabledKey, $"access key {id} is disabled", scheme, id);
        if (!Replay.TryUse(auth.Signature, signedAt + options.MaxClockSkew))
            return AuthResult.Fail(AuthFailure.Replayed, "this signature was already used; sign each request anew", scheme, id);
        return new AuthResult { Key = key, Scheme = scheme, Signature = auth.Signature, ClaimedKeyId = id };
    }

    /// <summary>A claimed key id fit for messages and logs: printable ASCII, bounded length (it may be garbage or a pasted secret).</summary>
    private static string SafeId(string id)
    {
        if (id.Length > 32 || !id.All(char.IsAsciiLetterOrDigit)) return "(malformed key id)";
        return id;
    }
}
