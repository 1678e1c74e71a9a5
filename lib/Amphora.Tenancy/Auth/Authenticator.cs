using System.Security.Cryptography;
using System.Text;
using Amphora.Tenancy.Keys;

namespace Amphora.Tenancy.Auth;

/// <summary>
/// Proves which access key sent a request: HTTP basic auth (key id and secret), <c>Authorization: Bearer &lt;id&gt;:&lt;secret&gt;</c>,
/// or an AWS Signature Version 4 signature for service <c>aps</c>. A SigV4 request is checked in two steps: everything that
/// does not need the body first (<see cref="BeginSigV4"/>: scope, date window, signed headers present, key known and enabled),
/// then the signature over the buffered body (<see cref="CompleteSigV4"/>), so no body is read for a request that cannot
/// succeed. As AWS does, a signature is valid within the clock-skew window (±5 minutes) and there is no replay cache: two
/// identical requests in the same second both pass (a sender's retry is one). A wrong secret, an unknown key and a disabled
/// key get the same answer (<see cref="AuthResult.PublicReason"/>), and the secret derivation and comparison run for unknown
/// keys too (against a random secret), compared in constant time. Pure of HTTP plumbing, thread-safe.
/// </summary>
public sealed class Authenticator(KeyStore keys, TenancyOptions options, TimeProvider? time = null)
{
    public const string Service = "aps";

    /// <summary>What every request with credentials that do not prove a key is told, whatever the reason.</summary>
    public const string InvalidCredentials = "the access key id, secret or signature is not valid";

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private static readonly byte[] DummySecret = Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(30)));

    /// <summary>Authenticates a request whose body (if it is SigV4-signed) is already in <see cref="AuthRequest.Body"/>.</summary>
    public AuthResult Authenticate(AuthRequest request)
    {
        string header = request.Headers.Authorization.ToString();
        if (header.Length == 0) return AuthResult.Fail(AuthFailure.Missing, "no credentials: send basic auth, a bearer token or an AWS SigV4 signature");
        if (IsSigV4(header))
        {
            var begun = BeginSigV4(request);
            return begun.Failed ?? CompleteSigV4(begun.Pending!, Convert.ToHexStringLower(SHA256.HashData(request.Body.Span)));
        }
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return AuthenticateBasic(header);
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateSecret("bearer", header[7..].Trim());
        return AuthResult.Fail(AuthFailure.Malformed, "unsupported authorization scheme: use Basic, Bearer or AWS4-HMAC-SHA256");
    }

    public static bool IsSigV4(string authorization) => authorization.StartsWith(SigV4.Algorithm + " ", StringComparison.Ordinal);

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
        bool known = keys.TryGetSecret(id, out var key, out var secret);
        bool ok = CryptographicOperations.FixedTimeEquals(given, known ? secret : DummySecret) && known;
        CryptographicOperations.ZeroMemory(given);
        if (!known) return Invalid(AuthFailure.UnknownKey, $"unknown access key {SafeId(id)}", scheme, SafeId(id));
        if (!ok) return Invalid(AuthFailure.BadCredentials, $"wrong secret for access key {id}", scheme, id);
        if (!key.Enabled) return Invalid(AuthFailure.DisabledKey, $"access key {id} is disabled", scheme, id);
        return new AuthResult { Key = key, Scheme = scheme, ClaimedKeyId = id };
    }

    /// <summary>A SigV4 request whose header, date and key passed; the signature still has to be checked over the body.</summary>
    public sealed class PendingSigV4
    {
        internal SigV4.Authorization Auth { get; init; } = null!;
        internal AuthRequest Request { get; init; } = null!;
        internal string AmzDate { get; init; } = "";
        internal AccessKeyInfo? Key { get; init; }
        internal byte[] Secret { get; init; } = [];
        /// <summary>The access key id the request names.</summary>
        public string KeyId => Auth.AccessKeyId;
    }

    /// <summary>The first step, without the body: <see cref="Failed"/> when the request cannot succeed, else <see cref="Pending"/>.</summary>
    public readonly record struct SigV4Begin(AuthResult? Failed, PendingSigV4? Pending);

    /// <summary>
    /// Checks everything that does not need the body: the header's form, the credential scope (service, region, date), the
    /// signed headers (host and x-amz-date signed, every signed header present), the date window, and the key. An unknown or
    /// disabled key is refused here, with the message of a wrong signature, after the same secret derivation a known key costs.
    /// </summary>
    public SigV4Begin BeginSigV4(AuthRequest request)
    {
        const string scheme = "sigv4";
        string header = request.Headers.Authorization.ToString();
        if (!SigV4.TryParseAuthorization(header, out var auth, out string reason))
            return new(AuthResult.Fail(AuthFailure.Malformed, reason, scheme), null);
        string id = auth!.AccessKeyId;
        if (auth.Service != Service || auth.Terminator != "aws4_request")
            return new(AuthResult.Fail(AuthFailure.WrongScope, $"credential scope {auth.Scope} is not for service \"{Service}\"", scheme, SafeId(id)), null);
        if (options.SigV4Regions.Count > 0 && !options.SigV4Regions.Contains(auth.Region))
            return new(AuthResult.Fail(AuthFailure.WrongScope, $"region \"{auth.Region}\" is not accepted (accepted: {string.Join(", ", options.SigV4Regions)})", scheme, SafeId(id)), null);
        if (!auth.SignedHeaders.Contains("host") || !auth.SignedHeaders.Contains("x-amz-date"))
            return new(AuthResult.Fail(AuthFailure.Malformed, "SignedHeaders must include host and x-amz-date", scheme, SafeId(id)), null);
        foreach (string name in auth.SignedHeaders)
            if (!request.Headers.ContainsKey(name))
                return new(AuthResult.Fail(AuthFailure.Malformed, $"the signed header \"{Cut(name)}\" is not in the request", scheme, SafeId(id)), null);

        string amzDate = request.Headers["x-amz-date"].ToString();
        if (!SigV4.TryParseDate(amzDate, out var signedAt))
            return new(AuthResult.Fail(AuthFailure.Expired, "x-amz-date is missing or not in the form yyyyMMddTHHmmssZ", scheme, SafeId(id)), null);
        var now = _time.GetUtcNow();
        if ((now - signedAt).Duration() > options.MaxClockSkew)
            return new(AuthResult.Fail(AuthFailure.Expired, $"signature date {amzDate} is more than {options.MaxClockSkew.TotalMinutes:0} minutes from the server time {now:yyyyMMdd'T'HHmmss'Z'}", scheme, SafeId(id)), null);
        if (auth.Date != amzDate[..8])
            return new(AuthResult.Fail(AuthFailure.Malformed, $"credential scope date {auth.Date} does not match x-amz-date {amzDate}", scheme, SafeId(id)), null);
        string claimed = request.Headers["x-amz-content-sha256"].ToString();
        if (claimed.Length > 0 && (claimed.Length != 64 || !claimed.All(char.IsAsciiHexDigit)))
            return new(AuthResult.Fail(AuthFailure.Malformed, "x-amz-content-sha256 must be the hex SHA-256 of the body (unsigned payloads are not accepted)", scheme, SafeId(id)), null);

        bool known = keys.TryGetSecret(id, out var key, out var secret);
        var pending = new PendingSigV4 { Auth = auth, Request = request, AmzDate = amzDate, Key = known ? key : null, Secret = known ? secret : DummySecret };
        if (!known || !key.Enabled)
        {
            // Refused without reading the body, but only after the work a wrong signature costs, and with its message.
            Signs(pending, SigV4.EmptyBodySha256);
            return new(Invalid(known ? AuthFailure.DisabledKey : AuthFailure.UnknownKey,
                known ? $"access key {id} is disabled" : $"unknown access key {SafeId(id)}", scheme, SafeId(id)), null);
        }
        return new(null, pending);
    }

    /// <summary>The second step: the body's hex SHA-256 <paramref name="bodyHash"/> against x-amz-content-sha256, and the signature.</summary>
    public AuthResult CompleteSigV4(PendingSigV4 pending, string bodyHash)
    {
        const string scheme = "sigv4";
        string id = pending.Auth.AccessKeyId;
        string claimed = pending.Request.Headers["x-amz-content-sha256"].ToString();
        if (claimed.Length > 0 && !string.Equals(claimed, bodyHash, StringComparison.OrdinalIgnoreCase))
            return Invalid(AuthFailure.BadCredentials, "x-amz-content-sha256 does not match the request body", scheme, id);
        if (!Signs(pending, claimed.Length > 0 ? claimed : bodyHash))
            return Invalid(AuthFailure.BadCredentials, $"the request signature does not match the signature computed for access key {id}", scheme, id);
        return new AuthResult { Key = pending.Key, Scheme = scheme, ClaimedKeyId = id };
    }

    /// <summary>Whether the request's signature is the one <see cref="PendingSigV4.Secret"/> gives (both URI encodings tried).</summary>
    private static bool Signs(PendingSigV4 p, string payloadHash)
    {
        var request = p.Request;
        byte[] signingKey = SigV4.SigningKey(p.Secret, p.Auth.Date, p.Auth.Region, p.Auth.Service);
        byte[] given = Encoding.ASCII.GetBytes(p.Auth.Signature);
        bool match = false;
        foreach (bool doubleEncode in (ReadOnlySpan<bool>)[true, false])
        {
            string canonical = SigV4.CanonicalRequest(request.Method, SigV4.CanonicalUri(request.RawPath, doubleEncode), request.RawQuery,
                request.Headers, p.Auth.SignedHeaders, payloadHash);
            string expected = SigV4.Sign(signingKey, SigV4.StringToSign(p.AmzDate, p.Auth.Scope, canonical));
            match |= CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), given);
        }
        CryptographicOperations.ZeroMemory(signingKey);
        return match;
    }

    private static AuthResult Invalid(AuthFailure failure, string reason, string scheme, string? claimedKeyId) =>
        AuthResult.Fail(failure, reason, scheme, claimedKeyId) with { PublicReason = InvalidCredentials };

    /// <summary>A claimed key id fit for messages and logs: printable ASCII, bounded length (it may be garbage or a pasted secret).</summary>
    private static string SafeId(string id)
    {
        if (id.Length > 32 || !id.All(char.IsAsciiLetterOrDigit)) return "(malformed key id)";
        return id;
    }

    private static string Cut(string s) => s.Length > 40 ? s[..40] + "…" : s;
}
