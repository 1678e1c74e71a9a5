namespace Amphora.Tenancy;

/// <summary>The AMP error types the control plane answers with.</summary>
public enum TenancyErrorKind
{
    Validation,
    NotFound,
    Conflict,
    AccessDenied,
    Unauthorized,
    ServiceQuotaExceeded,
    /// <summary>The shared tenancy state cannot be read or changed now (its bucket is unreachable); nothing was changed.</summary>
    Unavailable,
    /// <summary>This component lacks something the operation needs (a tool that is not installed); nothing was changed.</summary>
    ServiceUnavailable,
}

/// <summary>
/// A user-facing control-plane error: its <see cref="Kind"/> decides the HTTP status and the AMP error type
/// (<c>x-amzn-ErrorType</c>); the message is returned as <c>{"message": "..."}</c>.
/// </summary>
public sealed class TenancyException(TenancyErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public TenancyErrorKind Kind { get; } = kind;

    public int HttpStatus => Kind switch
    {
        TenancyErrorKind.Validation => 400,
        TenancyErrorKind.NotFound => 404,
        TenancyErrorKind.Conflict => 409,
        TenancyErrorKind.AccessDenied => 403,
        TenancyErrorKind.Unauthorized => 401,
        TenancyErrorKind.Unavailable => 500,
        TenancyErrorKind.ServiceUnavailable => 503,
        _ => 402,
    };

    public string TypeName => Kind switch
    {
        TenancyErrorKind.Validation => "ValidationException",
        TenancyErrorKind.NotFound => "ResourceNotFoundException",
        TenancyErrorKind.Conflict => "ConflictException",
        TenancyErrorKind.AccessDenied => "AccessDeniedException",
        TenancyErrorKind.Unauthorized => "UnrecognizedClientException",
        TenancyErrorKind.Unavailable => "InternalServerException",
        TenancyErrorKind.ServiceUnavailable => "ServiceUnavailableException",
        _ => "ServiceQuotaExceededException",
    };

    public static TenancyException Validation(string message) => new(TenancyErrorKind.Validation, message);
    public static TenancyException AccessDenied(string message) => new(TenancyErrorKind.AccessDenied, message);
    public static TenancyException NotFound(string message) => new(TenancyErrorKind.NotFound, message);
    public static TenancyException Conflict(string message) => new(TenancyErrorKind.Conflict, message);
    public static TenancyException Unavailable(string message, Exception? cause = null) => new(TenancyErrorKind.Unavailable, message, cause);
}
