using System.Globalization;
using System.Net;
using System.Text;

namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>
/// A small exporter on a free loopback port serving the OpenMetrics text format at <c>/metrics</c> with exemplars, as client
/// libraries expose them when tracing is on: a counter <c>checkout_total</c> and a histogram <c>checkout_seconds</c>. Every
/// scrape counts one checkout, and both the counter and the histogram's <c>le="0.5"</c> bucket carry an exemplar with a
/// trace id of their own (<c>c</c> or <c>h</c> and the scrape number) and the scrape's time.
/// </summary>
public sealed class OpenMetricsExemplarExporter : LoopbackExporter
{
    private int _scrapes;

    public int Scrapes => Volatile.Read(ref _scrapes);

    private OpenMetricsExemplarExporter() => Listen();

    public static OpenMetricsExemplarExporter Start() => new();

    protected override async Task Scrape(HttpListenerRequest request, HttpListenerResponse response)
    {
        int n = Interlocked.Increment(ref _scrapes);
        string at = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0).ToString("F3", CultureInfo.InvariantCulture);
        byte[] body = Encoding.UTF8.GetBytes($$"""
            # TYPE checkout counter
            # HELP checkout Checkouts.
            checkout_total{path="/cart"} {{n}} # {trace_id="c{{n}}"} 1 {{at}}
            # TYPE checkout_seconds histogram
            # HELP checkout_seconds Checkout latency.
            checkout_seconds_bucket{path="/cart",le="0.5"} {{n}} # {trace_id="h{{n}}"} 0.25 {{at}}
            checkout_seconds_bucket{path="/cart",le="+Inf"} {{n}}
            checkout_seconds_count{path="/cart"} {{n}}
            checkout_seconds_sum{path="/cart"} {{(n * 0.25).ToString(CultureInfo.InvariantCulture)}}
            # EOF

            """.Replace("\r\n", "\n"));
        response.ContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body);
    }
}
