using Amphora.Distributor;
using Amphora.Distributor.Prompb;
using Amphora.LoadGen;
using Amphora.Model;
using Amphora.Ring;
using Amphora.Tsdb.Chunks;
using Amphora.Ingester.Storage;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Benchmarks;

/// <summary>
/// The write path's hot spots, per remote-write request of 2,000 node-exporter-like samples (as Prometheus batches them):
/// snappy + protobuf decode, validation, ring hashing; and per sample: head append and XOR chunk encode/decode.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class WritePathBenchmarks
{
    private byte[] _body = [];
    private WriteRequest _request = null!;
    private readonly SeriesValidator _validator = new(new ValidationOptions());
    private Labels[] _labels = [];
    private HashRing _ring = null!;

    [GlobalSetup]
    public void Setup()
    {
        var catalog = new SeriesCatalog(2000, 1);
        var encoder = new WriteRequestEncoder();
        foreach (var s in catalog.All()) encoder.AddSeries(s, 1_700_000_000_000, s.Value);
        _body = encoder.Compress();
        _request = WriteRequest.Parser.ParseFrom(IronSnappy.Snappy.Decode(_body));
        _labels = _request.Timeseries.Select(ts => { _validator.TryValidate(ts, out var l, out _); return l; }).ToArray();
        _ring = new HashRing(Enumerable.Range(0, 6).Select(i => new RingInstance($"ingester-{i}", $"i{i}:9095")).ToList(), 3);
    }

    [Benchmark(Description = "snappy + protobuf decode (2000 samples)")]
    public int Decode() => WriteRequest.Parser.ParseFrom(IronSnappy.Snappy.Decode(_body)).Timeseries.Count;

    [Benchmark(Description = "validate 2000 series")]
    public int Validate()
    {
        int ok = 0;
        foreach (var ts in _request.Timeseries)
            if (_validator.TryValidate(ts, out _, out _)) ok++;
        return ok;
    }

    /// <summary>An ingester that takes everything and does nothing, so the cases below time the distributor alone.</summary>
    private sealed class NoPush : IIngesterPush
    {
        public Task<PushOutcome> PushAsync(string workspace, IReadOnlyList<ValidSeries> series, IReadOnlyList<Amphora.Storage.MetricMetadata> metadata,
            CancellationToken ct) => Task.FromResult(new PushOutcome { Accepted = series.Count });
    }

    private readonly DistributorService _distributor = new(new NoPush(), new DistributorOptions(), NullLogger<DistributorService>.Instance);

    [Benchmark(Description = "distributor, 2000 known series: generated parser + validation")]
    public async Task<int> PushThroughParser()
    {
        if (!RemoteWriteDecoder.TryDecode(_body, _distributor.Options, out var request, out _, out _)) return -1;
        return (await _distributor.PushAsync("ws", request!, CancellationToken.None)).StatusCode;
    }

    [Benchmark(Description = "distributor, 2000 known series: read in place + series cache")]
    public async Task<int> PushInPlace() => (await _distributor.PushBodyAsync("ws", _body, CancellationToken.None)).StatusCode;

    [Benchmark(Description = "ring owners of 2000 series (RF=3, 6 ingesters)")]
    public int RingHashing()
    {
        var owners = new List<int>(3);
        int n = 0;
        foreach (var l in _labels)
        {
            _ring.Get(HashRing.SeriesKey("ws", l), owners);
            n += owners.Count;
        }
        return n;
    }
}

[MemoryDiagnoser]
[ShortRunJob]
public class StorageBenchmarks
{
    private readonly (long T, double V)[] _samples = Enumerable.Range(0, 120).Select(i => (1_700_000_000_000L + i * 15_000L, 1000.0 + i * 3.25)).ToArray();
    private byte[] _chunk = [], _gaugeChunk = [], _walRecord = [];
    private Amphora.Tsdb.Wal.GroupCommitWal _wal = null!;
    private string _dir = "";
    private TsdbStorage _storage = null!;
    private Labels[] _series = [];
    private long _t = 1_700_000_000_000;

    [GlobalSetup]
    public async Task Setup()
    {
        var c = new XorChunk();
        foreach (var (t, v) in _samples) c.Append(t, v);
        _chunk = c.Snapshot();
        var random = new Random(1);
        var gauge = new XorChunk();
        long gt = 1_700_000_000_000;
        for (int i = 0; i < 120; i++) gauge.Append(gt += 15_000 + random.Next(-50, 50), Math.Round(random.NextDouble() * 1e9) / 1000);
        _gaugeChunk = gauge.Snapshot();
        _dir = Path.Combine(Path.GetTempPath(), "amphora-bench-" + Guid.NewGuid().ToString("N"));
        _storage = await TsdbStorage.OpenAsync(_dir, new TsdbOptions { Fsync = Amphora.Tsdb.Wal.FsyncPolicy.Never }, NullLogger.Instance);
        _series = Enumerable.Range(0, 2000).Select(i => Labels.FromStrings("__name__", "m", "instance", "i" + i % 100, "n", i.ToString())).ToArray();
        _wal = new Amphora.Tsdb.Wal.GroupCommitWal(new Amphora.Tsdb.Wal.WalWriter(Path.Combine(_dir, "wal-only")), Amphora.Tsdb.Wal.FsyncPolicy.Never);
        _walRecord = Amphora.Tsdb.Wal.WalRecords.EncodeSamples("ws",
            Enumerable.Range(0, 2000).Select(i => new Amphora.Tsdb.Wal.WalSample((ulong)i, 1_700_000_000_000, i)).ToArray());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _wal.Dispose();
        _storage.Dispose();
        Directory.Delete(_dir, true);
    }

    [Benchmark(Description = "XOR encode 120 samples")]
    public int Encode()
    {
        var c = new XorChunk();
        foreach (var (t, v) in _samples) c.Append(t, v);
        return c.Bytes.Length;
    }

    [Benchmark(Description = "XOR decode 120 samples")]
    public double DecodeChunk() => Decode(_chunk);

    [Benchmark(Description = "XOR decode 120 samples, gauge with random values and jittered timestamps")]
    public double DecodeGaugeChunk() => Decode(_gaugeChunk);

    private static double Decode(byte[] chunk)
    {
        var it = new XorIterator(chunk);
        double sum = 0;
        while (it.Next() == ValueType.Float) sum += it.At().V;
        return sum;
    }

    [Benchmark(Description = "WAL append + commit of one 2000-sample record (fsync never)")]
    public async Task WalAppend()
    {
        long seq = _wal.Append(Amphora.Tsdb.Wal.WalRecordType.Samples, _walRecord);
        await _wal.CommitAsync(seq);
    }

    [Benchmark(Description = "head append + WAL commit, 2000 samples (fsync never)")]
    public async Task AppendBatch()
    {
        var appender = _storage.Appender("ws");
        long t = _t += 15_000;
        foreach (var s in _series)
        {
            ulong r = 0;
            appender.Append(ref r, s, t, 1);
        }
        await appender.CommitAsync();
    }
}
