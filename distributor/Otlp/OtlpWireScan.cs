namespace Amphora.Distributor.Otlp;

/// <summary>
/// Counts the data points and their attributes in an encoded <c>ExportMetricsServiceRequest</c> without decoding it, so a
/// protobuf body is held to the per-request limits before it is parsed: an empty data point is two bytes on the wire and
/// about a hundred times that once decoded. Walks only the framing, in place (ExportMetricsServiceRequest.resource_metrics
/// = 1, ResourceMetrics.scope_metrics = 2, ScopeMetrics.metrics = 2, Metric.gauge/sum/histogram/exponential_histogram/
/// summary = 5/7/9/10/11, their data_points = 1, and each point kind's attributes: 7, 9, 1, 7); a body whose framing is
/// malformed is left to the parser to name.
/// </summary>
public static class OtlpWireScan
{
    /// <summary>The data points and point attributes of <paramref name="body"/>, or null when its framing is malformed.</summary>
    public static (long Points, long Attributes)? Count(ReadOnlySpan<byte> body)
    {
        long points = 0, attributes = 0;
        bool ok = ProtoWire.Each(body, 1, resource => ProtoWire.Each(resource, 2, scope => ProtoWire.Each(scope, 2, metric => ProtoWire.EachField(metric, (field, data) =>
        {
            int attributeField = field switch { 5 or 7 or 11 => 7, 9 => 9, 10 => 1, _ => 0 };
            if (attributeField == 0) return true;
            return ProtoWire.Each(data, 1, point =>
            {
                points++;
                return ProtoWire.Each(point, attributeField, _ => { attributes++; return true; });
            });
        }))));
        return ok ? (points, attributes) : null;
    }
}
