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
        bool ok = Each(body, 1, resource => Each(resource, 2, scope => Each(scope, 2, metric => EachField(metric, (field, data) =>
        {
            int attributeField = field switch { 5 or 7 or 11 => 7, 9 => 9, 10 => 1, _ => 0 };
            if (attributeField == 0) return true;
            return Each(data, 1, point =>
            {
                points++;
                return Each(point, attributeField, _ => { attributes++; return true; });
            });
        }))));
        return ok ? (points, attributes) : null;
    }

    private delegate bool Visit(ReadOnlySpan<byte> value);
    private delegate bool VisitField(int field, ReadOnlySpan<byte> value);

    /// <summary>Calls <paramref name="visit"/> for each length-delimited value of field <paramref name="number"/>.</summary>
    private static bool Each(ReadOnlySpan<byte> message, int number, Visit visit) =>
        EachField(message, (field, value) => field != number || visit(value));

    /// <summary>Calls <paramref name="visit"/> for each length-delimited field; other wire types are skipped. False when malformed.</summary>
    private static bool EachField(ReadOnlySpan<byte> message, VisitField visit)
    {
        int pos = 0;
        while (pos < message.Length)
        {
            if (!Varint(message, ref pos, out ulong tag) || tag >> 3 == 0) return false;
            switch ((int)(tag & 7))
            {
                case 0:
                    if (!Varint(message, ref pos, out _)) return false;
                    break;
                case 1:
                    pos += 8;
                    break;
                case 2:
                    if (!Varint(message, ref pos, out ulong length) || length > (ulong)(message.Length - pos)) return false;
                    if (!visit((int)(tag >> 3), message.Slice(pos, (int)length))) return false;
                    pos += (int)length;
                    break;
                case 5:
                    pos += 4;
                    break;
                default:
                    return false;
            }
            if (pos > message.Length) return false;
        }
        return true;
    }

    private static bool Varint(ReadOnlySpan<byte> buffer, ref int pos, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && pos < buffer.Length; shift += 7)
        {
            byte b = buffer[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return true;
        }
        return false;
    }
}
