using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Amphora.Server;

/// <summary>Counts HTTP requests by route, method and status, and times them.</summary>
public sealed class HttpMetricsMiddleware
{
    private static readonly Meter Meter = new("Amphora.Http");
    private readonly Counter<long> _requests = Meter.CreateCounter<long>("amphora_http_requests",
        description: "HTTP requests served, by route pattern, method and status code.");
    private readonly Histogram<double> _duration = Meter.CreateHistogram<double>("amphora_http_request_duration_seconds",
        description: "Time to serve an HTTP request, by route pattern.");

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            string route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "other";
            var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
            _requests.Add(1, new("route", route), new("method", context.Request.Method), new("status", context.Response.StatusCode.ToString()));
            _duration.Record(elapsed, new KeyValuePair<string, object?>("route", route));
        }
    }
}
