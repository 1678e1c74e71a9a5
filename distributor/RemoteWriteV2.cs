using Amphora.Distributor.Prompb;
using Google.Protobuf;
using V2 = Amphora.Distributor.PrompbV2;

namespace Amphora.Distributor;

/// <summary>What a remote write 2.0 request held, for the response's <c>X-Prometheus-Remote-Write-*-Written</c> headers.</summary>
public readonly record struct RemoteWriteV2Counts(long Samples, long Histograms, long Exemplars);

/// <summary>
/// Remote write 2.0 (<c>io.prometheus.write.v2.Request</c>) into the 1.0 request the distributor validates and pushes:
/// labels and metadata text from the symbols table (each symbol's bytes shared by every reference, never copied), samples as
/// they are with their start timestamps (the sample's own, else the series' created timestamp), native histograms as 1.0's
/// (same fields; their start timestamps are not read), exemplars as 1.0's.
/// Refuses, with 400, what the specification makes malformed: a symbols table whose first entry is not empty, an odd number
/// of label references, a reference past the table; and, as 1.0's framing scan does, a request over the per-request series,
/// sample or label limits, or whose labels would spell out more than the size limit. Pure and thread-safe.
/// </summary>
public static class RemoteWriteV2
{
    private static readonly MessageParser<V2.Request> Parser = V2.Request.Parser.WithDiscardUnknownFields(true);

    public const string MalformedId = "err-amphora-malformed-remote-write-v2";

    public static bool TryDecode(byte[] decoded, DistributorOptions options, out WriteRequest? request, out RemoteWriteV2Counts counts,
        out PushResult? refusal)
    {
        request = null;
        counts = default;
        if (OverLimitBeforeDecoding(decoded, options) is { } early)
        {
            refusal = early;
            return false;
        }
        V2.Request v2;
        try
        {
            v2 = Parser.ParseFrom(decoded);
        }
        catch (InvalidProtocolBufferException e)
        {
            refusal = new PushResult(400, $"protobuf: cannot decode the io.prometheus.write.v2.Request: {e.Message}");
            return false;
        }
        return TryConvert(v2, options, out request, out counts, out refusal);
    }

    /// <summary>
    /// The per-request limits checked on the framing, before the request is parsed (decoded, small series, samples and
    /// symbols take many times their wire size): series (Request.timeseries = 5), samples, histograms and exemplars
    /// (TimeSeries fields 2, 3, 4), labels (half the packed labels_refs, field 1), and symbols (Request.symbols = 4), of which a
    /// request needs at most two per label and three per series (metric name, help and unit). Null when within them, or when
    /// the framing is malformed (the parser names what is wrong).
    /// </summary>
    private static PushResult? OverLimitBeforeDecoding(ReadOnlySpan<byte> decoded, DistributorOptions options)
    {
        long series = 0, samples = 0, labels = 0, symbols = 0;
        bool ok = ProtoWire.EachField(decoded, (field, value) =>
        {
            if (field == 4) symbols++;
            if (field != 5) return true;
            series++;
            return ProtoWire.EachField(value, (f, v) =>
            {
                if (f is 2 or 3 or 4) samples++;
                else if (f == 1) labels += ProtoWire.PackedVarints(v) / 2;
                return true;
            });
        });
        if (!ok) return null;
        var shape = options.RequestShape;
        if (WriteRequestScan.OverLimit(shape, series, samples, labels) is { } over) return new PushResult(400, over.Message);
        long maxSymbols = 2 * shape.MaxLabelsPerRequest + 3L * shape.MaxSeriesPerRequest + 1;
        return symbols > maxSymbols
            ? new PushResult(400, $"{MalformedId}: the request has {symbols} symbols, more than its labels and series can reference " +
                $"(at most {maxSymbols}: two per label of --distributor.max-labels-per-request and three per series of " +
                "--distributor.max-series-per-request, plus the empty one)")
            : null;
    }

    public static bool TryConvert(V2.Request v2, DistributorOptions options, out WriteRequest? request, out RemoteWriteV2Counts counts,
        out PushResult? refusal)
    {
        request = null;
        counts = default;
        var symbols = v2.Symbols;
        if (symbols.Count > 0 && !symbols[0].IsEmpty)
            return Malformed("symbols[0] must be the empty string", out refusal);
        var result = new WriteRequest();
        var families = new HashSet<string>(StringComparer.Ordinal);
        long labels = 0, samples = 0, histograms = 0, exemplars = 0, labelBytes = 0;
        for (int i = 0; i < v2.Timeseries.Count; i++)
        {
            var ts = v2.Timeseries[i];
            var refs = ts.LabelsRefs;
            if (refs.Count % 2 != 0)
                return Malformed($"timeseries[{i}] has {refs.Count} labels_refs; they come in name-value pairs", out refusal);
            var series = new TimeSeries();
            ByteString name = ByteString.Empty;
            for (int r = 0; r < refs.Count; r += 2)
            {
                if (!TryRef(symbols, refs[r], out var n) || !TryRef(symbols, refs[r + 1], out var v))
                    return Malformed($"timeseries[{i}] references symbol {Math.Max(refs[r], refs[r + 1])}, past the {symbols.Count} " +
                        "symbols of the request", out refusal);
                labelBytes += n.Length + v.Length;
                if (n.Span.SequenceEqual("__name__"u8)) name = v;
                series.Labels.Add(new Label { Name = n, Value = v });
            }
            // A sample's own start timestamp, else the series' created timestamp (the earlier drafts' per-series field).
            foreach (var s in ts.Samples)
                series.Samples.Add(new Sample { Value = s.Value, Timestamp = s.Timestamp, StartTimestamp = s.StartTimestamp != 0 ? s.StartTimestamp : ts.CreatedTimestamp });
            foreach (var h in ts.Histograms) series.Histograms.Add(ToV1(h));
            foreach (var e in ts.Exemplars)
            {
                if (e.LabelsRefs.Count % 2 != 0)
                    return Malformed($"an exemplar of timeseries[{i}] has {e.LabelsRefs.Count} labels_refs; they come in name-value pairs", out refusal);
                var exemplar = new Prompb.Exemplar { Value = e.Value, Timestamp = e.Timestamp };
                for (int r = 0; r < e.LabelsRefs.Count; r += 2)
                {
                    if (!TryRef(symbols, e.LabelsRefs[r], out var n) || !TryRef(symbols, e.LabelsRefs[r + 1], out var v))
                        return Malformed($"an exemplar of timeseries[{i}] references symbol {Math.Max(e.LabelsRefs[r], e.LabelsRefs[r + 1])}, " +
                            $"past the {symbols.Count} symbols of the request", out refusal);
                    labelBytes += n.Length + v.Length;
                    exemplar.Labels.Add(new Label { Name = n, Value = v });
                }
                series.Exemplars.Add(exemplar);
            }
            labels += refs.Count / 2;
            samples += ts.Samples.Count;
            histograms += ts.Histograms.Count;
            exemplars += ts.Exemplars.Count;
            if (WriteRequestScan.OverLimit(options.RequestShape, i + 1, samples + histograms + exemplars, labels) is { } over)
            {
                refusal = new PushResult(400, over.Message);
                return false;
            }
            if (labelBytes > options.MaxRecvMsgSize)
            {
                refusal = RemoteWriteDecoder.TooLarge($"the labels its symbol references spell out (over {options.MaxRecvMsgSize} bytes)",
                    options.MaxRecvMsgSize, options.MaxRecvMsgSizeSetting);
                return false;
            }
            if (ts.Metadata is { } m && !TryMetadata(m, symbols, name, families, result, i, out refusal)) return false;
            result.Timeseries.Add(series);
        }
        request = result;
        counts = new RemoteWriteV2Counts(samples, histograms, exemplars);
        refusal = null;
        return true;
    }

    /// <summary>A 2.0 histogram as 1.0's message: the same fields under the same numbers.</summary>
    private static Histogram ToV1(V2.Histogram h)
    {
        var result = new Histogram
        {
            Sum = h.Sum, Schema = h.Schema, ZeroThreshold = h.ZeroThreshold, ResetHint = (Histogram.Types.ResetHint)(int)h.ResetHint,
            Timestamp = h.Timestamp,
        };
        if (h.CountCase == V2.Histogram.CountOneofCase.CountInt) result.CountInt = h.CountInt;
        else if (h.CountCase == V2.Histogram.CountOneofCase.CountFloat) result.CountFloat = h.CountFloat;
        if (h.ZeroCountCase == V2.Histogram.ZeroCountOneofCase.ZeroCountInt) result.ZeroCountInt = h.ZeroCountInt;
        else if (h.ZeroCountCase == V2.Histogram.ZeroCountOneofCase.ZeroCountFloat) result.ZeroCountFloat = h.ZeroCountFloat;
        foreach (var s in h.NegativeSpans) result.NegativeSpans.Add(new BucketSpan { Offset = s.Offset, Length = s.Length });
        foreach (var s in h.PositiveSpans) result.PositiveSpans.Add(new BucketSpan { Offset = s.Offset, Length = s.Length });
        result.NegativeDeltas.Add(h.NegativeDeltas);
        result.NegativeCounts.Add(h.NegativeCounts);
        result.PositiveDeltas.Add(h.PositiveDeltas);
        result.PositiveCounts.Add(h.PositiveCounts);
        result.CustomValues.Add(h.CustomValues);
        return result;
    }

    private static bool TryMetadata(V2.Metadata m, Google.Protobuf.Collections.RepeatedField<ByteString> symbols, ByteString name,
        HashSet<string> families, WriteRequest result, int i, out PushResult? refusal)
    {
        refusal = null;
        if (!TryRef(symbols, m.HelpRef, out var help) || !TryRef(symbols, m.UnitRef, out var unit))
            return Malformed($"the metadata of timeseries[{i}] references symbol {Math.Max(m.HelpRef, m.UnitRef)}, past the " +
                $"{symbols.Count} symbols of the request", out refusal);
        if (m.Type == V2.Metadata.Types.MetricType.Unspecified && help.IsEmpty && unit.IsEmpty) return true;
        string family = name.ToStringUtf8();
        if (family.Length == 0 || !families.Add(family)) return true;
        result.Metadata.Add(new MetricMetadata
        {
            MetricFamilyName = family,
            Type = (MetricMetadata.Types.MetricType)(int)m.Type,
            Help = help.ToStringUtf8(),
            Unit = unit.ToStringUtf8(),
        });
        return true;
    }

    private static bool TryRef(Google.Protobuf.Collections.RepeatedField<ByteString> symbols, uint reference, out ByteString symbol)
    {
        // Reference 0 is the empty string even in a request without symbols.
        if (reference == 0 && symbols.Count == 0)
        {
            symbol = ByteString.Empty;
            return true;
        }
        symbol = reference < symbols.Count ? symbols[(int)reference] : ByteString.Empty;
        return reference < symbols.Count;
    }

    private static bool Malformed(string why, out PushResult? refusal)
    {
        refusal = new PushResult(400, $"{MalformedId}: malformed remote write 2.0 request: {why}");
        return false;
    }
}
