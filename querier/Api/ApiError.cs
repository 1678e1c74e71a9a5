namespace Amphora.Querier.Api;

/// <summary>Prometheus's API error types, with the HTTP status each is answered with.</summary>
public enum ApiErrorType { BadData, Execution, Canceled, Timeout, Internal, NotFound, Unavailable, TooManyRequests }

/// <summary>An error the Prometheus HTTP API reports as <c>{"status":"error","errorType":...,"error":...}</c>.</summary>
public sealed class ApiException(ApiErrorType type, string message) : Exception(message)
{
    public ApiErrorType Type { get; } = type;

    public static ApiException InvalidParam(string param, string reason) =>
        new(ApiErrorType.BadData, $"invalid parameter \"{param}\": {reason}");

    public static string TypeText(ApiErrorType type) => type switch
    {
        ApiErrorType.BadData => "bad_data",
        ApiErrorType.Execution => "execution",
        ApiErrorType.Canceled => "canceled",
        ApiErrorType.Timeout => "timeout",
        ApiErrorType.NotFound => "not_found",
        ApiErrorType.Unavailable => "unavailable",
        ApiErrorType.TooManyRequests => "too_many_requests",
        _ => "internal",
    };

    public static int HttpStatus(ApiErrorType type) => type switch
    {
        ApiErrorType.BadData => 400,
        ApiErrorType.Execution => 422,
        ApiErrorType.Canceled => 499,
        ApiErrorType.Timeout => 503,
        ApiErrorType.NotFound => 404,
        ApiErrorType.Unavailable => 503,
        ApiErrorType.TooManyRequests => 429,
        _ => 500,
    };
}
