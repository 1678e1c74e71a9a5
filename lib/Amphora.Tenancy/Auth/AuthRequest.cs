using Microsoft.AspNetCore.Http;

namespace Amphora.Tenancy.Auth;

/// <summary>
/// What the authenticator needs from an HTTP request. <see cref="RawPath"/> and <see cref="RawQuery"/> are as sent on the wire
/// (still percent-encoded; the query without its '?'). <see cref="Body"/> is the buffered body, needed for SigV4 payload hashes.
/// </summary>
public sealed class AuthRequest
{
    public required string Method { get; init; }
    public required string RawPath { get; init; }
    public string RawQuery { get; init; } = "";
    public required IHeaderDictionary Headers { get; init; }
    public ReadOnlyMemory<byte> Body { get; init; }
}

public enum AuthFailure
{
    /// <summary>No credentials at all.</summary>
    Missing,
    /// <summary>An Authorization header that is not basic, bearer or SigV4, or a malformed one.</summary>
    Malformed,
    /// <summary>The access key id is not known.</summary>
    UnknownKey,
    /// <summary>The key exists but is disabled.</summary>
    DisabledKey,
    /// <summary>Wrong secret or a signature that does not match the request.</summary>
    BadCredentials,
    /// <summary>SigV4 scope names another service or a region that is not accepted.</summary>
    WrongScope,
    /// <summary>x-amz-date is missing, malformed or outside the allowed clock skew.</summary>
    Expired,
}

/// <summary>The result of authenticating one request: the key, or why it was refused (a reason safe to log: never a secret).</summary>
public sealed record AuthResult
{
    public Keys.AccessKeyInfo? Key { get; init; }
    public AuthFailure? Failure { get; init; }
    /// <summary>Why, in full: for the audit log.</summary>
    public string Reason { get; init; } = "";

    /// <summary>What the client is told: <see cref="Reason"/>, except that an unknown key, a disabled key and a wrong secret or
    /// signature all read the same, so that key ids cannot be probed.</summary>
    public string PublicReason { get => _publicReason ?? Reason; init => _publicReason = value; }
    private readonly string? _publicReason;

    /// <summary>"basic", "bearer" or "sigv4".</summary>
    public string Scheme { get; init; } = "";

    /// <summary>The key id the client claimed, also when authentication failed (for the audit log).</summary>
    public string? ClaimedKeyId { get; init; }

    public bool Succeeded => Key is not null;

    public static AuthResult Fail(AuthFailure failure, string reason, string scheme = "", string? claimedKeyId = null) =>
        new() { Failure = failure, Reason = reason, Scheme = scheme, ClaimedKeyId = claimedKeyId };
}
