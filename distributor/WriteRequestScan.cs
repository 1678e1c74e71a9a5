namespace Amphora.Distributor;

/// <summary>Limits on what one remote-write request may hold, checked on its protobuf framing before anything is decoded.</summary>
public sealed record RequestShapeLimits
{
    /// <summary>Most series (<c>timeseries</c> entries) in one request (distributor.max-series-per-request).</summary>
    public int MaxSeriesPerRequest { get; init; } = 100_000;

    /// <summary>Most samples, histogram samples and exemplars in one request (distributor.max-samples-per-request).</summary>
    public int MaxSamplesPerRequest { get; init; } = 1_000_000;

    /// <summary>Most labels, summed over the series of one request (distributor.max-labels-per-request).</summary>
    public int MaxLabelsPerRequest { get; init; } = 1_000_000;
}

/// <summary>What the framing of a remote-write 1.0 <c>WriteRequest</c> holds, counted without decoding it.</summary>
public readonly record struct RequestShape(int Series, long Labels, long Samples, long Histograms, long Exemplars, int Metadata);

/// <summary>Why a request was refused while its framing was scanned: a stable id and a message naming the limit or the defect.</summary>
public sealed record ShapeError(string Id, string Message);

/// <summary>
/// Walks the protobuf framing of a decoded remote-write 1.0 <c>WriteRequest</c> (timeseries = 1, metadata = 3; in a
/// TimeSeries labels = 1, samples = 2, exemplars = 3, histograms = 4) and counts its repeated entries, without allocating. It
/// stops at the first entry over a limit, so the cost of a refused request is bounded by the limit, never by what the sender
/// packed into the body (a 2-byte empty series is otherwise ~150 bytes of decoded objects). It also refuses framing the
/// decoder would refuse: truncated fields, lengths past the end, over-long varints, group wire types, field number 0.
/// </summary>
public static class WriteRequestScan
{
    private const int WireVarint = 0, WireFixed64 = 1, WireLen = 2, WireFixed32 = 5;

    public static bool TryScan(ReadOnlySpan<byte> message, RequestShapeLimits limits, out RequestShape shape, out ShapeError? error)
    {
        int series = 0, metadata = 0;
        long labels = 0, samples = 0, histograms = 0, exemplars = 0;
        shape = default;
        int pos = 0;
        while (pos < message.Length)
        {
            if (!TryReadField(message, ref pos, out int field, out int wire, out ReadOnlySpan<byte> payload, out string? why))
            {
                error = Malformed("WriteRequest", why!);
                return false;
            }
            if (field == 1 && wire == WireLen)
            {
                series++;
                if (series > limits.MaxSeriesPerRequest || !TryScanSeries(payload, ref labels, ref samples, ref histograms, ref exemplars, out why))
                {
                    error = OverLimit(limits, series, 0, 0, PrometheusHint) ?? Malformed($"TimeSeries {series}", why!);
                    return false;
                }
                if (OverLimit(limits, series, samples + histograms + exemplars, labels, PrometheusHint) is { } over)
                {
                    error = over;
                    return false;
                }
            }
            else if (field == 1 || (field == 3 && wire != WireLen))
            {
                error = Malformed("WriteRequest", $"field {field} has wire type {wire}, expected 2 (length-delimited)");
                return false;
            }
            else if (field == 3) metadata++;
        }
        shape = new RequestShape(series, labels, samples, histograms, exemplars, metadata);
        error = null;
        return true;
    }

    private static bool TryScanSeries(ReadOnlySpan<byte> series, ref long labels, ref long samples, ref long histograms, ref long exemplars,
        out string? why)
    {
        int pos = 0;
        while (pos < series.Length)
        {
            if (!TryReadField(series, ref pos, out int field, out int wire, out _, out why)) return false;
            if (field is >= 1 and <= 4 && wire != WireLen)
            {
                why = $"field {field} has wire type {wire}, expected 2 (length-delimited)";
                return false;
            }
            switch (field)
            {
                case 1: labels++; break;
                case 2: samples++; break;
                case 3: exemplars++; break;
                case 4: histograms++; break;
            }
        }
        why = null;
        return true;
    }

    private const string PrometheusHint = " (Prometheus: queue_config.max_samples_per_send)";

    /// <summary>
    /// The first of the per-request limits that <paramref name="series"/>, <paramref name="samples"/> (samples, histogram
    /// samples and exemplars) and <paramref name="labels"/> exceed, or null; <paramref name="hint"/> ends the advice to send
    /// smaller batches with the sender's setting for it. Shared by remote write and OTLP.
    /// </summary>
    public static ShapeError? OverLimit(RequestShapeLimits limits, long series, long samples, long labels, string hint = "")
    {
        if (series > limits.MaxSeriesPerRequest)
            return new ShapeError("err-amphora-max-series-per-request",
                $"err-amphora-max-series-per-request: the request holds more than {limits.MaxSeriesPerRequest} series " +
                $"(set by distributor.max-series-per-request); send smaller batches{hint}");
        if (samples > limits.MaxSamplesPerRequest)
            return new ShapeError("err-amphora-max-samples-per-request",
                $"err-amphora-max-samples-per-request: the request holds more than {limits.MaxSamplesPerRequest} samples, histogram " +
                "samples and exemplars (set by distributor.max-samples-per-request); send smaller batches");
        if (labels > limits.MaxLabelsPerRequest)
            return new ShapeError("err-amphora-max-labels-per-request",
                $"err-amphora-max-labels-per-request: the series of the request hold more than {limits.MaxLabelsPerRequest} labels " +
                "in all (set by distributor.max-labels-per-request); send smaller batches");
        return null;
    }

    /// <summary>Reads one field's tag and skips its value; <paramref name="payload"/> is the bytes of a length-delimited value.</summary>
    private static bool TryReadField(ReadOnlySpan<byte> buffer, ref int pos, out int field, out int wire, out ReadOnlySpan<byte> payload,
        out string? why)
    {
        payload = default;
        field = 0;
        wire = 0;
        int at = pos;
        if (!TryReadVarint(buffer, ref pos, out ulong tag)) { why = $"truncated or over-long tag at byte {at}"; return false; }
        if (tag >> 3 is 0 or > 536_870_911) { why = $"invalid field number in tag {tag} at byte {at}"; return false; }
        field = (int)(tag >> 3);
        wire = (int)(tag & 7);
        switch (wire)
        {
            case WireVarint:
                if (!TryReadVarint(buffer, ref pos, out _)) { why = $"truncated or over-long varint of field {field} at byte {at}"; return false; }
                break;
            case WireFixed64:
                if (buffer.Length - pos < 8) { why = $"truncated 64-bit value of field {field} at byte {at}"; return false; }
                pos += 8;
                break;
            case WireFixed32:
                if (buffer.Length - pos < 4) { why = $"truncated 32-bit value of field {field} at byte {at}"; return false; }
                pos += 4;
                break;
            case WireLen:
                if (!TryReadVarint(buffer, ref pos, out ulong length)) { why = $"truncated length of field {field} at byte {at}"; return false; }
                if (length > (ulong)(buffer.Length - pos))
                {
                    why = $"field {field} at byte {at} declares {length} bytes but only {buffer.Length - pos} remain";
                    return false;
                }
                payload = buffer.Slice(pos, (int)length);
                pos += (int)length;
                break;
            default:
                why = $"field {field} at byte {at} has wire type {wire}, which remote write does not use";
                return false;
        }
        why = null;
        return true;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> buffer, ref int pos, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 70 && pos < buffer.Length; shift += 7)
        {
            byte b = buffer[pos++];
            if (shift == 63 && b > 1) return false;
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }

    private static ShapeError Malformed(string where, string why) =>
        new("err-amphora-malformed-protobuf", $"protobuf: cannot decode the WriteRequest: {where}: {why}");
}
