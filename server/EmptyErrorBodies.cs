using Amphora.Tenancy.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Amphora.Server;

/// <summary>
/// Gives every error that would leave with an empty body (a route that does not exist, a method a route does not take)
/// the body of its API family: Prometheus's JSON under the query API and <c>/api/v1/</c>, AMP's <c>{"message"}</c> with
/// <c>x-amzn-ErrorType</c> on the control plane and anywhere else, remote write's plain text. Errors a handler answered
/// keep their body.
/// </summary>
public static class EmptyErrorBodies
{
    public static void UseFamilyErrorBodies(this WebApplication app) =>
        app.UseStatusCodePages(context => WriteAsync(context.HttpContext));

    private static Task WriteAsync(HttpContext ctx)
    {
        var request = ctx.Request;
        string path = request.Path.Value ?? "/";
        int status = ctx.Response.StatusCode;
        string message = status switch
        {
            404 => $"no such endpoint: {request.Method} {path}",
            405 => $"method {request.Method} is not allowed on {path}; allowed: {ctx.Response.Headers.Allow}",
            _ => $"{request.Method} {path} failed with status {status}",
        };
        var plane = RequestActions.Resolve(request.Method, path, null).Plane;
        if (plane is ApiPlane.Other or ApiPlane.Public && path.StartsWith("/api/v1/", StringComparison.Ordinal)) plane = ApiPlane.Query;
        if (plane is ApiPlane.ControlPlane or ApiPlane.Other or ApiPlane.Public && status is 404 or 405)
            return TenancyErrors.WriteAmpAsync(ctx, status, "UnknownOperationException", message);
        return TenancyErrors.WriteAsync(ctx, plane, status, message);
    }
}
