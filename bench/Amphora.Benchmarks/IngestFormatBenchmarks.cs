using System.IO.Compression;
using System.Text;
using Amphora.Distributor;
using Amphora.Distributor.Otlp;
using Amphora.Distributor.Otlp.Proto;
using Amphora.Distributor.Prompb;
using Amphora.LoadGen;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using V2 = Amphora.Distributor.PrompbV2;

namespace Amphora.Benchmarks;

/// <summary>
/// The same 2,000 node-exporter-like samples as remote write 1.0, remote write 2.0 and OTLP, from the body to the remote-write
/// request the distributor validates (everything after that is shared): snappy + protobuf decode for remote write (and the
/// symbols table for 2.0); protobuf or JSON decode (and gunzip) plus the translation for OTLP. In OTLP, job and instance are the resource (service.name,
/// service.instance.id), the other labels point attributes, counters cumulative monotonic sums, the rest gauges.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(warmupCount: 3, iterationCount: 15)]
public class IngestFormatBenchmarks
{
    private static readonly DistributorOptions Options = new();
    private static readonly OtlpOptions Otlp = new();
    private byte[] _remoteWrite = [], _remoteWriteV2 = [], _otlp = [], _otlpGzip = [], _otlpJson = [];

    [GlobalSetup]
    public void Setup()
    {
        var catalog = new SeriesCatalog(2000, 1);
        var encoder = new WriteRequestEncoder();
        foreach (var s in catalog.All()) encoder.AddSeries(s, 1_700_000_000_000, s.Value);
        _remoteWrite = encoder.Compress();
        _remoteWriteV2 = IronSnappy.Snappy.Encode(ToV2(catalog, 1_700_000_000_000).ToByteArray());
        if (RemoteWriteV2() != 2000) throw new InvalidOperationException("the remote write 2.0 request does not hold 2,000 samples");

        var export = ToOtlp(catalog, 1_700_000_000_000UL * 1_000_000UL);
        _otlp = export.ToByteArray();
        using (var output = new MemoryStream())
        {
            using (var gz = new GZipStream(output, CompressionLevel.Fastest)) gz.Write(_otlp);
            _otlpGzip = output.ToArray();
        }
        _otlpJson = Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(export));
        if (Translate(_otlp, false, OtlpFormat.Protobuf) != 2000) throw new InvalidOperationException("the OTLP request does not hold 2,000 samples");
    }

    private static ExportMetricsServiceRequest ToOtlp(SeriesCatalog catalog, ulong timeUnixNano)
    {
        var export = new ExportMetricsServiceRequest();
        foreach (var target in catalog.All().GroupBy(s => (Label(s, "job"), Label(s, "instance"))))
        {
            var rm = new ResourceMetrics { Resource = new Resource() };
            rm.Resource.Attributes.Add(Attr("service.name", target.Key.Item1));
            rm.Resource.Attributes.Add(Attr("service.instance.id", target.Key.Item2));
            var scope = new ScopeMetrics();
            foreach (var family in target.GroupBy(s => Label(s, "__name__")))
            {
                bool counter = family.First().Kind != SeriesKind.Gauge;
                var metric = counter
                    ? new Metric { Name = family.Key.EndsWith("_total", StringComparison.Ordinal) ? family.Key[..^6] : family.Key,
                        Sum = new Sum { IsMonotonic = true, AggregationTemporality = AggregationTemporality.Cumulative } }
                    : new Metric { Name = family.Key, Gauge = new Gauge() };
                var points = counter ? metric.Sum.DataPoints : metric.Gauge.DataPoints;
                foreach (var s in family)
                {
                    var p = new NumberDataPoint { TimeUnixNano = timeUnixNano, AsDouble = s.Value };
                    for (int i = 0; i < s.Names.Length; i++)
                        if (s.Names[i] is not ("__name__" or "job" or "instance")) p.Attributes.Add(Attr(s.Names[i], s.Values[i]));
                    points.Add(p);
                }
                scope.Metrics.Add(metric);
            }
            rm.ScopeMetrics.Add(scope);
            export.ResourceMetrics.Add(rm);
        }
        return export;
    }

    private static V2.Request ToV2(SeriesCatalog catalog, long timestamp)
    {
        var request = new V2.Request();
        var refs = new Dictionary<string, uint>(StringComparer.Ordinal);
        uint Ref(string s)
        {
            if (refs.TryGetValue(s, out uint r)) return r;
            refs[s] = r = (uint)request.Symbols.Count;
            request.Symbols.Add(ByteString.CopyFromUtf8(s));
            return r;
        }
        Ref("");
        foreach (var s in catalog.All())
        {
            var ts = new V2.TimeSeries();
            for (int i = 0; i < s.Names.Length; i++) ts.LabelsRefs.Add([Ref(s.Names[i]), Ref(s.Values[i])]);
            ts.Samples.Add(new V2.Sample { Timestamp = timestamp, Value = s.Value });
            request.Timeseries.Add(ts);
        }
        return request;
    }

    private static string Label(GeneratedSeries s, string name) => s.Values[Array.IndexOf(s.Names, name)];

    private static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static int Translate(byte[] body, bool gzip, OtlpFormat format)
    {
        var (request, refusal) = OtlpDecoder.DecodeAsync(body, gzip, format, Options, CancellationToken.None).GetAwaiter().GetResult();
        if (refusal is not null) throw new InvalidOperationException(refusal.Message);
        return OtlpTranslator.Translate(request!, Otlp, Options.RequestShape).Request.Timeseries.Count;
    }

    [Benchmark(Baseline = true, Description = "remote write 1.0: snappy + protobuf decode (2000 samples)")]
    public int RemoteWrite() => WriteRequest.Parser.ParseFrom(IronSnappy.Snappy.Decode(_remoteWrite)).Timeseries.Count;

    [Benchmark(Description = "remote write 2.0: snappy + protobuf decode + symbols (2000 samples)")]
    public int RemoteWriteV2()
    {
        if (!RemoteWriteDecoder.TryDecompress(_remoteWriteV2, Options, out var decoded, out var refusal) ||
            !Distributor.RemoteWriteV2.TryDecode(decoded, Options, out var request, out _, out refusal))
            throw new InvalidOperationException(refusal!.Message);
        return request!.Timeseries.Count;
    }

    [Benchmark(Description = "OTLP protobuf: decode + translate (2000 samples)")]
    public int OtlpProtobuf() => Translate(_otlp, false, OtlpFormat.Protobuf);

    [Benchmark(Description = "OTLP protobuf + gzip: gunzip + decode + translate (2000 samples)")]
    public int OtlpProtobufGzip() => Translate(_otlpGzip, true, OtlpFormat.Protobuf);

    [Benchmark(Description = "OTLP JSON: decode + translate (2000 samples)")]
    public int OtlpJson() => Translate(_otlpJson, false, OtlpFormat.Json);
}
