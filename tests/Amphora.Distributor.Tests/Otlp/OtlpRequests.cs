using System.Globalization;
using System.Text;
using Amphora.Distributor.Otlp;
using Amphora.Distributor.Otlp.Proto;
using Amphora.Model;

namespace Amphora.Distributor.Tests.Otlp;

/// <summary>Builds OTLP export requests for the tests and renders what they translate to as Prometheus text.</summary>
public static class OtlpRequests
{
    public const ulong T = 1_700_000_000_000_000_000UL; // 2023-11-14T22:13:20Z, in nanoseconds
    public const long Ms = 1_700_000_000_000L;

    public static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    public static ExportMetricsServiceRequest Request(IEnumerable<KeyValue> resource, params Metric[] metrics)
    {
        var scope = new ScopeMetrics { Scope = new InstrumentationScope { Name = "test" } };
        scope.Metrics.AddRange(metrics);
        var rm = new ResourceMetrics { Resource = new Resource() };
        rm.Resource.Attributes.AddRange(resource);
        rm.ScopeMetrics.Add(scope);
        var request = new ExportMetricsServiceRequest();
        request.ResourceMetrics.Add(rm);
        return request;
    }

    public static KeyValue[] Service => [Attr("service.name", "checkout"), Attr("service.instance.id", "pod-1")];

    public static NumberDataPoint Number(double v, ulong t = T, params KeyValue[] attributes)
    {
        var p = new NumberDataPoint { AsDouble = v, TimeUnixNano = t, StartTimeUnixNano = t - 60_000_000_000UL };
        p.Attributes.AddRange(attributes);
        return p;
    }

    public static Metric Gauge(string name, string unit, params NumberDataPoint[] points)
    {
        var m = new Metric { Name = name, Unit = unit, Gauge = new Gauge() };
        m.Gauge.DataPoints.AddRange(points);
        return m;
    }

    public static Metric Sum(string name, string unit, bool monotonic, AggregationTemporality temporality, params NumberDataPoint[] points)
    {
        var m = new Metric { Name = name, Unit = unit, Sum = new Sum { IsMonotonic = monotonic, AggregationTemporality = temporality } };
        m.Sum.DataPoints.AddRange(points);
        return m;
    }

    public static OtlpTranslation Translate(ExportMetricsServiceRequest request, OtlpOptions? options = null) =>
        OtlpTranslator.Translate(request, options ?? new OtlpOptions());

    /// <summary>Each series as <c>name{a="b", ...} value @ms</c>, sorted; the staleness marker shows as <c>stale</c>.</summary>
    public static List<string> Series(OtlpTranslation translation)
    {
        var lines = new List<string>();
        foreach (var ts in translation.Request.Timeseries)
        {
            string name = "";
            var labels = new List<string>();
            foreach (var l in ts.Labels)
            {
                string n = l.Name.ToStringUtf8(), v = l.Value.ToStringUtf8();
                if (n == LabelNames.MetricName) name = v;
                else labels.Add($"{n}=\"{v}\"");
            }
            foreach (var s in ts.Samples)
            {
                string value = StaleNaN.Is(s.Value) ? "stale" : s.Value.ToString(CultureInfo.InvariantCulture);
                lines.Add($"{name}{{{string.Join(", ", labels)}}} {value} @{s.Timestamp}");
            }
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    public static string Text(OtlpTranslation translation) => new StringBuilder().AppendJoin('\n', Series(translation)).ToString();
}
