using System.Buffers.Binary;
using System.Text;
using static Amphora.EndToEnd.Tests.Harness.WriteRequestBuilder;

namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>
/// Builds a remote write 2.0 <c>io.prometheus.write.v2.Request</c> by hand from the specification's field numbers (Request:
/// symbols 4, timeseries 5; TimeSeries: labels_refs 1 packed, samples 2, histograms 3, exemplars 4, metadata 5,
/// created_timestamp 6; Histogram: the fields and numbers of 1.0's (<see cref="WriteRequestBuilder.HistogramMessage"/>); Sample:
/// value 1, timestamp 2; Exemplar: labels_refs 1, value 2, timestamp 3; Metadata: type 1, help_ref 3, unit_ref 4), independent
/// of the product's generated types. Strings are interned into the symbols table, which starts with "".
/// </summary>
public sealed class RemoteWriteV2Builder
{
    private readonly List<string> _symbols = [""];
    private readonly Dictionary<string, uint> _refs = new(StringComparer.Ordinal) { [""] = 0 };
    private readonly MemoryStream _series = new();

    private uint Ref(string s)
    {
        if (_refs.TryGetValue(s, out uint r)) return r;
        _refs[s] = r = (uint)_symbols.Count;
        _symbols.Add(s);
        return r;
    }

    /// <summary>Adds a series: labels sorted by name, its samples, and optionally metadata (type as in the spec's enum) and an exemplar.</summary>
    public RemoteWriteV2Builder Series((string Name, string Value)[] labels, (long T, double V)[] samples, int type = 0, string help = "",
        string unit = "", (string TraceId, double V, long T)? exemplar = null, long createdTimestamp = 0,
        (long T, Amphora.Model.Histogram? H, FloatHistogramWire? F)[]? histograms = null)
    {
        var ts = new MemoryStream();
        var refs = new MemoryStream();
        foreach (var (n, v) in labels.OrderBy(l => l.Name, StringComparer.Ordinal))
        {
            WriteVarint(refs, Ref(n));
            WriteVarint(refs, Ref(v));
        }
        WriteBytes(ts, 1, refs.ToArray());
        foreach (var (t, v) in samples) WriteBytes(ts, 2, SampleBytes(v, t));
        foreach (var (t, h, f) in histograms ?? []) WriteBytes(ts, 3, HistogramMessage(t, h, f));
        if (exemplar is { } e)
        {
            var ex = new MemoryStream();
            var exRefs = new MemoryStream();
            WriteVarint(exRefs, Ref("trace_id"));
            WriteVarint(exRefs, Ref(e.TraceId));
            WriteBytes(ex, 1, exRefs.ToArray());
            WriteTag(ex, 2, 1);
            WriteDouble(ex, e.V);
            WriteTag(ex, 3, 0);
            WriteVarint(ex, (ulong)e.T);
            WriteBytes(ts, 4, ex.ToArray());
        }
        if (type != 0 || help.Length > 0 || unit.Length > 0)
        {
            var m = new MemoryStream();
            WriteTag(m, 1, 0);
            WriteVarint(m, (ulong)type);
            WriteTag(m, 3, 0);
            WriteVarint(m, Ref(help));
            WriteTag(m, 4, 0);
            WriteVarint(m, Ref(unit));
            WriteBytes(ts, 5, m.ToArray());
        }
        if (createdTimestamp != 0)
        {
            WriteTag(ts, 6, 0);
            WriteVarint(ts, (ulong)createdTimestamp);
        }
        WriteBytes(_series, 5, ts.ToArray());
        return this;
    }

    public byte[] Encode()
    {
        var request = new MemoryStream();
        foreach (var s in _symbols) WriteBytes(request, 4, Encoding.UTF8.GetBytes(s));
        _series.WriteTo(request);
        return request.ToArray();
    }

    private static byte[] SampleBytes(double v, long t)
    {
        var sample = new MemoryStream();
        WriteTag(sample, 1, 1);
        WriteDouble(sample, v);
        WriteTag(sample, 2, 0);
        WriteVarint(sample, (ulong)t);
        return sample.ToArray();
    }

    private static void WriteDouble(Stream s, double v)
    {
        Span<byte> d = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(d, BitConverter.DoubleToInt64Bits(v));
        s.Write(d);
    }
}
