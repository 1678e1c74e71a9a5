using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>
/// Sends Prometheus remote write 1.0 requests. The protobuf is encoded here by hand, independently of the product's generated
/// types, so a test can also send what a generated encoder would refuse to produce (invalid UTF-8, unsorted or duplicate labels).
/// </summary>
public sealed class RemoteWriteClient(Uri baseAddress, AuthenticationHeaderValue? authorization = null) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The status and body of a push; <see cref="Error"/> is the <c>error</c> field of a Prometheus JSON error body.</summary>
    public sealed record Result(HttpStatusCode Status, string Body)
    {
        public string Error => System.Text.Json.JsonDocument.Parse(Body).RootElement.GetProperty("error").GetString() ?? "";
    }

    /// <summary>Posts to <c>/api/v1/push</c> with <c>X-Scope-OrgID</c> when a workspace is given, else to the path as given.</summary>
    public Task<Result> PushAsync(string workspace, WriteRequestBuilder request) =>
        PostAsync("/api/v1/push", workspace, IronSnappy.Snappy.Encode(request.Encode()));

    public Task<Result> PushToWorkspacePathAsync(string workspace, WriteRequestBuilder request) =>
        PostAsync($"/workspaces/{workspace}/api/v1/remote_write", null, IronSnappy.Snappy.Encode(request.Encode()));

    public async Task<Result> PostAsync(string path, string? workspace, byte[] body,
        string contentType = "application/x-protobuf", string? contentEncoding = "snappy")
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        req.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (contentEncoding is not null) req.Content.Headers.ContentEncoding.Add(contentEncoding);
        req.Headers.Add("X-Prometheus-Remote-Write-Version", "0.1.0");
        if (workspace is not null) req.Headers.Add("X-Scope-OrgID", workspace);
        if (authorization is not null) req.Headers.Authorization = authorization;
        using var resp = await _http.SendAsync(req);
        return new Result(resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>Builds a <c>prometheus.WriteRequest</c> (timeseries = 1, metadata = 3) as protobuf bytes.</summary>
public sealed partial class WriteRequestBuilder
{
    private readonly MemoryStream _out = new();

    /// <summary>Adds a series; labels are written in the order given (raw bytes allowed) so tests can break the rules.</summary>
    public WriteRequestBuilder Series(IEnumerable<(byte[] Name, byte[] Value)> labels, params (long T, double V)[] samples) =>
        Series(labels, samples, []);

    /// <summary>Adds a series with native histogram samples (TimeSeries field 4: sum, schema and timestamp of each) after its floats.</summary>
    public WriteRequestBuilder HistogramSeries(string labels, long[] histogramTimestamps, params (long T, double V)[] samples) =>
        Series(ParseLabels(labels).Select(l => (Encoding.UTF8.GetBytes(l.Name), Encoding.UTF8.GetBytes(l.Value))), samples, histogramTimestamps);

    /// <summary>Adds a series of one sample with one exemplar (TimeSeries field 3: labels 1, value 2, timestamp 3).</summary>
    public WriteRequestBuilder SeriesWithExemplar(string labels, (long T, double V) sample, string exemplarLabels, double exemplarValue, long exemplarT) =>
        Series(Utf8Pairs(labels), [sample], [], [(exemplarLabels, exemplarValue, exemplarT)]);

    /// <summary>A TimeSeries of exemplars without samples, as Prometheus's remote write sends a series' exemplars.</summary>
    public WriteRequestBuilder ExemplarOnly(string labels, string exemplarLabels, double exemplarValue, long exemplarT) =>
        Series(Utf8Pairs(labels), [], [], [(exemplarLabels, exemplarValue, exemplarT)]);

    private static IEnumerable<(byte[] Name, byte[] Value)> Utf8Pairs(string labels) =>
        ParseLabels(labels).Select(l => (Encoding.UTF8.GetBytes(l.Name), Encoding.UTF8.GetBytes(l.Value)));

    private static void WriteLabels(MemoryStream into, IEnumerable<(byte[] Name, byte[] Value)> labels)
    {
        foreach (var (name, value) in labels)
        {
            var label = new MemoryStream();
            WriteBytes(label, 1, name);
            WriteBytes(label, 2, value);
            WriteBytes(into, 1, label.ToArray());
        }
    }

    private WriteRequestBuilder Series(IEnumerable<(byte[] Name, byte[] Value)> labels, (long T, double V)[] samples, long[] histograms,
        (string Labels, double V, long T)[]? exemplars = null)
    {
        var ts = new MemoryStream();
        WriteLabels(ts, labels);
        foreach (var (t, v) in samples)
        {
            var sample = new MemoryStream();
            WriteTag(sample, 1, 1);
            var d = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(d, BitConverter.DoubleToInt64Bits(v));
            sample.Write(d);
            WriteTag(sample, 2, 0);
            WriteVarint(sample, (ulong)t);
            WriteBytes(ts, 2, sample.ToArray());
        }
        foreach (long t in histograms)
        {
            var h = new MemoryStream();
            WriteTag(h, 3, 1); // sum
            h.Write(BitConverter.GetBytes(BitConverter.DoubleToInt64Bits(1.5)));
            WriteTag(h, 4, 0); // schema (sint32, zigzag: 3)
            WriteVarint(h, 6);
            WriteTag(h, 15, 0); // timestamp
            WriteVarint(h, (ulong)t);
            WriteBytes(ts, 4, h.ToArray());
        }
        foreach (var (exemplarLabels, v, t) in exemplars ?? [])
        {
            var e = new MemoryStream();
            WriteLabels(e, Utf8Pairs(exemplarLabels));
            WriteTag(e, 2, 1);
            e.Write(BitConverter.GetBytes(BitConverter.DoubleToInt64Bits(v)));
            WriteTag(e, 3, 0);
            WriteVarint(e, (ulong)t);
            WriteBytes(ts, 3, e.ToArray());
        }
        WriteBytes(_out, 1, ts.ToArray());
        return this;
    }

    public WriteRequestBuilder Series(string labels, params (long T, double V)[] samples) =>
        Series(ParseLabels(labels).Select(l => (Encoding.UTF8.GetBytes(l.Name), Encoding.UTF8.GetBytes(l.Value))), samples);

    /// <summary>Adds metric metadata; type is the remote-write enum (1 counter, 2 gauge, 3 summary, 4 histogram, ...).</summary>
    public WriteRequestBuilder Metadata(int type, string family, string help, string unit = "")
    {
        var m = new MemoryStream();
        WriteTag(m, 1, 0);
        WriteVarint(m, (ulong)type);
        WriteBytes(m, 2, Encoding.UTF8.GetBytes(family));
        WriteBytes(m, 4, Encoding.UTF8.GetBytes(help));
        if (unit.Length > 0) WriteBytes(m, 5, Encoding.UTF8.GetBytes(unit));
        WriteBytes(_out, 3, m.ToArray());
        return this;
    }

    public byte[] Encode() => _out.ToArray();

    /// <summary>Parses <c>a="1",b="2"</c> (no escapes) into pairs, keeping the order written.</summary>
    public static List<(string Name, string Value)> ParseLabels(string s) => SplitPairs(s).ToList();

    private static IEnumerable<(string, string)> SplitPairs(string s)
    {
        int i = 0;
        while (i < s.Length)
        {
            int eq = s.IndexOf('=', i);
            string name = s[i..eq];
            int close = s.IndexOf('"', eq + 2);
            yield return (name, s[(eq + 2)..close]);
            i = close + 1;
            if (i < s.Length && s[i] == ',') i++;
        }
    }

    internal static void WriteTag(Stream s, int field, int wireType) => WriteVarint(s, (ulong)((field << 3) | wireType));

    internal static void WriteBytes(Stream s, int field, byte[] bytes)
    {
        WriteTag(s, field, 2);
        WriteVarint(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    internal static void WriteVarint(Stream s, ulong v)
    {
        while (v >= 0x80)
        {
            s.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        s.WriteByte((byte)v);
    }
}
