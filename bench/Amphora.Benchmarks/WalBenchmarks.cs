using System.Diagnostics;
using Amphora.Tsdb.Wal;
using BenchmarkDotNet.Attributes;

namespace Amphora.Benchmarks;

/// <summary>
/// Group commit with <c>--wal.fsync=always</c> on the real disk: concurrent requests each append one 2,000-sample Samples
/// record and wait until an fsync covers it, as remote writes do. Uses only the WAL's public API, so the same file measures
/// an older tree too.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class WalBenchmarks
{
    private GroupCommitWal _wal = null!;
    private byte[] _record = [];
    private string _dir = "";
    private readonly List<double> _appendMicros = new();

    [Params(1, 64)]
    public int Committers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "amphora-bench-wal-" + Guid.NewGuid().ToString("N"));
        _wal = new GroupCommitWal(new WalWriter(_dir), FsyncPolicy.Always);
        _record = WalRecords.EncodeSamples("ws", Enumerable.Range(0, 2000).Select(i => new WalSample((ulong)i, 1_700_000_000_000, i)).ToArray());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // How well the commits were grouped, and how long an append took (it waits for nothing but a buffer copy or a
        // write(2) when no fsync runs under the writer's lock); in the benchmark's log.
        _appendMicros.Sort();
        double Quantile(double q) => _appendMicros.Count == 0 ? double.NaN : _appendMicros[(int)Math.Min(_appendMicros.Count - 1, q * _appendMicros.Count)];
        Console.WriteLine($"// {Committers} committers: {(double)_wal.Commits / Math.Max(1, _wal.Fsyncs):F1} commits per fsync, " +
            $"append p50 {Quantile(0.5):F0} us p99 {Quantile(0.99):F0} us");
        _wal.Dispose();
        Directory.Delete(_dir, true);
    }

    [Benchmark(Description = "concurrent commits of one 2,000-sample record each (fsync always)")]
    public Task Commit()
    {
        var commits = new Task[Committers];
        for (int i = 0; i < commits.Length; i++)
        {
            commits[i] = Task.Run(async () =>
            {
                long started = Stopwatch.GetTimestamp();
                long sequence = _wal.Append(WalRecordType.Samples, _record);
                double micros = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                lock (_appendMicros) _appendMicros.Add(micros);
                await _wal.CommitAsync(sequence);
            });
        }
        return Task.WhenAll(commits);
    }
}
