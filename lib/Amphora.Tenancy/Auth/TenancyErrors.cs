using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Amphora.Tenancy.Auth;

/// <summary>Error bodies in the shape each API uses: AMP's <c>{"message"}</c>, or Prometheus's JSON (query API and remote write).</summary>
public static class TenancyErrors
{
    public static Task WriteAsync(HttpContext ctx, ApiPlane plane, int status, string message)
    {
        var response = ctx.Response;
        response.StatusCode = status;
        switch (plane)
        {
            case ApiPlane.RemoteWrite or ApiPlane.Query:
                // Remote write sits under /api/v1/ too: the same Prometheus shape (senders log the body as it is).
                response.ContentType = Amphora.Model.PrometheusErrorBody.ContentType;
                return response.WriteAsync(Amphora.Model.PrometheusErrorBody.Json(status, message), ctx.RequestAborted);
            default:
                return WriteAmpAsync(ctx, status, AmpErrorType(status), message);
        }
    }

    public static Task WriteAmpAsync(HttpContext ctx, int status, string errorType, string message)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.Headers["x-amzn-ErrorType"] = errorType;
        return ctx.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["message"] = message }), ctx.RequestAborted);
    }

    public static string AmpErrorType(int status) => status switch
    {
        401 => "UnrecognizedClientException",
        403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        409 => "ConflictException",
        429 => "ThrottlingException",
        503 => "ServiceUnavailableException",
        >= 400 and < 500 => "ValidationException",
        _ => "InternalServerException",
    };

    public static string PrometheusErrorType(int status) => Amphora.Model.PrometheusErrorBody.ErrorType(status);
}
