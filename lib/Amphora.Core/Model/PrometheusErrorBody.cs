using System.Text.Json;

namespace Amphora.Model;

/// <summary>
/// The error body of Prometheus's HTTP API, <c>{"status":"error","errorType":...,"error":...}</c>, used for every error under
/// <c>/api/v1/</c>: the query API and remote write alike, so one client-side parser reads them all.
/// </summary>
public static class PrometheusErrorBody
{
    public const string ContentType = "application/json";

    /// <summary>Prometheus's <c>errorType</c> for an HTTP status.</summary>
    public static string ErrorType(int status) => status switch
    {
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        422 => "execution",
        429 => "too_many_requests",
        503 => "unavailable",
        >= 400 and < 500 => "bad_data",
        _ => "internal",
    };

    public static string Json(int status, string message) => Json(ErrorType(status), message);

    public static string Json(string errorType, string message) =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["status"] = "error", ["errorType"] = errorType, ["error"] = message });
}
