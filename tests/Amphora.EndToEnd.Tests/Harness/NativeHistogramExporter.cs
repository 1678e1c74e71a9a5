using System.Net;
using Google.Protobuf;

namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>
/// A small exporter on a free loopback port serving native histograms in the Prometheus protobuf exposition format
/// (<c>io.prometheus.client.MetricFamily</c> messages, each preceded by its varint length) at <c>/metrics</c>, as client
/// libraries expose them to a Prometheus scraping with native histograms enabled. Every scrape adds one step's
/// observations to each series, so the counts grow steadily and their bucket proportions stay fixed. A scrape that does not
/// ask for the protobuf format gets 406 and is counted in <see cref="RefusedScrapes"/>.
/// </summary>
public sealed class NativeHistogramExporter : LoopbackExporter
{
    public const string ContentType = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

    /// <summary>One series: its labels, its schema, and what one step adds: a count per positive bucket index, and a sum.</summary>
    public sealed record Series(string Path, int Schema, IReadOnlyDictionary<int, ulong> StepBuckets, double StepSum);

    private readonly IReadOnlyList<Series> _series;
    private readonly object _lock = new();
    private int _steps;

    public int Scrapes { get { lock (_lock) return _steps; } }
    public int RefusedScrapes { get; private set; }
    public string? LastRefusedAccept { get; private set; }

    private NativeHistogramExporter(IReadOnlyList<Series> series)
    {
        _series = series;
        Listen();
    }

    public static NativeHistogramExporter Start(params Series[] series) => new(series);

    protected override async Task Scrape(HttpListenerRequest request, HttpListenerResponse response)
    {
        string accept = request.Headers["Accept"] ?? "";
        if (!accept.Contains("application/vnd.google.protobuf", StringComparison.Ordinal) ||
            !accept.Contains("proto=io.prometheus.client.MetricFamily", StringComparison.Ordinal))
        {
            RefusedScrapes++;
            LastRefusedAccept = accept;
            response.StatusCode = 406;
            return;
        }
        byte[] body;
        lock (_lock) body = Encode(++_steps);
        response.ContentType = ContentType;
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body);
    }

    /// <summary>The metric family <c>request_seconds</c> after <paramref name="steps"/> steps, length-delimited.</summary>
    private byte[] Encode(int steps)
    {
        var family = new MemoryStream();
        var f = new CodedOutputStream(family, leaveOpen: true);
        f.WriteTag(1, WireFormat.WireType.LengthDelimited); // name
        f.WriteString("request_seconds");
        f.WriteTag(2, WireFormat.WireType.LengthDelimited); // help
        f.WriteString("Request latency.");
        f.WriteTag(3, WireFormat.WireType.Varint); // type
        f.WriteEnum(4); // HISTOGRAM
        foreach (var s in _series)
        {
            f.WriteTag(4, WireFormat.WireType.LengthDelimited); // metric
            f.WriteBytes(Metric(s, steps));
        }
        f.Flush();
        var delimited = new MemoryStream();
        var d = new CodedOutputStream(delimited, leaveOpen: true);
        d.WriteBytes(ByteString.CopyFrom(family.ToArray()));
        d.Flush();
        return delimited.ToArray();
    }

    private static ByteString Metric(Series s, int steps)
    {
        var h = new MemoryStream();
        var w = new CodedOutputStream(h, leaveOpen: true);
        ulong count = 0;
        foreach (var c in s.StepBuckets.Values) count += c * (ulong)steps;
        w.WriteTag(1, WireFormat.WireType.Varint); // sample_count
        w.WriteUInt64(count);
        w.WriteTag(2, WireFormat.WireType.Fixed64); // sample_sum
        w.WriteDouble(s.StepSum * steps);
        w.WriteTag(5, WireFormat.WireType.Varint); // schema
        w.WriteSInt32(s.Schema);
        w.WriteTag(6, WireFormat.WireType.Fixed64); // zero_threshold
        w.WriteDouble(Math.ScaleB(1, -128));
        w.WriteTag(7, WireFormat.WireType.Varint); // zero_count
        w.WriteUInt64(0);
        // Positive buckets: one span per run of consecutive indexes, counts as deltas to the previous bucket.
        var indexes = s.StepBuckets.Keys.Order().ToList();
        int previousEnd = 0;
        for (int i = 0; i < indexes.Count;)
        {
            int j = i;
            while (j + 1 < indexes.Count && indexes[j + 1] == indexes[j] + 1) j++;
            var span = new MemoryStream();
            var sw = new CodedOutputStream(span, leaveOpen: true);
            sw.WriteTag(1, WireFormat.WireType.Varint);
            sw.WriteSInt32(i == 0 ? indexes[i] : indexes[i] - previousEnd);
            sw.WriteTag(2, WireFormat.WireType.Varint);
            sw.WriteUInt32((uint)(j - i + 1));
            sw.Flush();
            w.WriteTag(12, WireFormat.WireType.LengthDelimited); // positive_span
            w.WriteBytes(ByteString.CopyFrom(span.ToArray()));
            previousEnd = indexes[j] + 1;
            i = j + 1;
        }
        long previous = 0;
        foreach (int index in indexes)
        {
            long absolute = (long)s.StepBuckets[index] * steps;
            w.WriteTag(13, WireFormat.WireType.Varint); // positive_delta
            w.WriteSInt64(absolute - previous);
            previous = absolute;
        }
        w.Flush();

        var m = new MemoryStream();
        var mw = new CodedOutputStream(m, leaveOpen: true);
        var label = new MemoryStream();
        var lw = new CodedOutputStream(label, leaveOpen: true);
        lw.WriteTag(1, WireFormat.WireType.LengthDelimited);
        lw.WriteString("path");
        lw.WriteTag(2, WireFormat.WireType.LengthDelimited);
        lw.WriteString(s.Path);
        lw.Flush();
        mw.WriteTag(1, WireFormat.WireType.LengthDelimited); // label
        mw.WriteBytes(ByteString.CopyFrom(label.ToArray()));
        mw.WriteTag(7, WireFormat.WireType.LengthDelimited); // histogram
        mw.WriteBytes(ByteString.CopyFrom(h.ToArray()));
        mw.Flush();
        return ByteString.CopyFrom(m.ToArray());
    }
}
