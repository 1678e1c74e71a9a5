using System.Diagnostics;
using System.Text;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.Storage;
using Amphora.Ingester.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using Xunit.Abstractions;

namespace Amphora.Distributor.Tests;

/// <summary>
/// 100,000 generated remote-write bodies (valid ones, and valid ones mutated: truncated, wrong wire types, huge varints, bad
/// snappy, wrong lengths, bad UTF-8, unsorted, duplicate and empty label names, extreme values) through the real decode,
/// validation and append path into a real in-process TSDB. Every body must end in a typed outcome (204, 400, 413); 503 only
/// for the faults the test injects; no exception. The seed is printed and can be fixed with AMPHORA_FUZZ_SEED.
/// </summary>
public sealed class RemoteWriteFuzzTests(ITestOutputHelper output)
{
    private const int Bodies = 100_000;

    /// <summary>An ingester push that fails with "no quorum" (the retryable fault) when told to.</summary>
    private sealed class FaultInjectingPush(IIngesterPush inner) : IIngesterPush
    {
        public bool FailNext { get; set; }

        public Task<PushOutcome> PushAsync(string workspace, IReadOnlyList<ValidSeries> series, IReadOnlyList<MetricMetadata> metadata,
            CancellationToken ct)
        {
            if (!FailNext) return inner.PushAsync(workspace, series, metadata, ct);
            FailNext = false;
            throw new QuorumNotReachedException("injected fault");
        }
    }

    [Fact(Timeout = 600_000)]
    public async Task One_hundred_thousand_mutated_bodies_end_in_typed_outcomes_and_never_crash()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("AMPHORA_FUZZ_SEED"), out int s) ? s : 20261303;
        output.WriteLine($"remote-write fuzz seed {seed} (AMPHORA_FUZZ_SEED={seed} reproduces this run)");
        var random = new Random(seed);
        using var dir = new TempDir();
        using var storage = await TsdbStorage.OpenAsync(dir.Path, new TsdbOptions { Fsync = Amphora.Tsdb.Wal.FsyncPolicy.Never, CutInterval = TimeSpan.Zero },
            NullLogger.Instance);
        var push = new FaultInjectingPush(new LocalIngesterPush(storage));
        var distributor = Distributors.Create(push, new DistributorOptions
        {
            MaxRecvMsgSize = 256 << 10,
            RequestShape = new RequestShapeLimits { MaxSeriesPerRequest = 200, MaxSamplesPerRequest = 2_000, MaxLabelsPerRequest = 2_000 },
        });
        var generator = new BodyGenerator(random);
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var mutations = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int injected = 0;
        var clock = Stopwatch.StartNew();
        TimeSpan slowest = TimeSpan.Zero;

        for (int i = 0; i < Bodies; i++)
        {
            var (mutation, body) = generator.Next();
            bool inject = random.Next(100) == 0;
            push.FailNext = inject;
            long started = clock.ElapsedTicks;
            PushResult result;
            try
            {
                result = await distributor.PushBodyAsync("ws-fuzz-" + random.Next(4), body, CancellationToken.None);
            }
            catch (Exception e)
            {
                Assert.Fail($"body {i} ({mutation}, seed {seed}) crashed the push path: {e}\nbody: {Convert.ToHexString(body)}");
                throw;
            }
            var took = TimeSpan.FromTicks((long)((clock.ElapsedTicks - started) * (TimeSpan.TicksPerSecond / (double)Stopwatch.Frequency)));
            if (took > slowest) slowest = took;
            bool pushed = !push.FailNext && inject;
            push.FailNext = false;
            if (result.StatusCode == 503 && pushed) injected++;
            else Assert.True(result.StatusCode is 204 or 400 or 413,
                $"body {i} ({mutation}, seed {seed}) got {result.StatusCode} {result.Message}\nbody: {Convert.ToHexString(body)}");
            Assert.True(result.StatusCode == 204 || !string.IsNullOrEmpty(result.Message), $"body {i} ({mutation}): a refusal without a message");
            outcomes[result.StatusCode.ToString()] = outcomes.GetValueOrDefault(result.StatusCode.ToString()) + 1;
            mutations[mutation] = mutations.GetValueOrDefault(mutation) + 1;
        }

        output.WriteLine($"{Bodies} bodies in {clock.Elapsed.TotalSeconds:0.0} s, slowest {slowest.TotalMilliseconds:0.0} ms; " +
                         $"outcomes {string.Join(", ", outcomes.Select(o => $"{o.Key}: {o.Value}"))}; injected faults {injected}");
        output.WriteLine("mutations: " + string.Join(", ", mutations.Select(m => $"{m.Key} {m.Value}")));
        Assert.True(outcomes.GetValueOrDefault("204") > Bodies / 20, "too few bodies were valid: the generator no longer exercises the append path");
        Assert.True(outcomes.GetValueOrDefault("400") > Bodies / 4, "too few bodies were refused: the mutations no longer bite");
        Assert.True(injected > 0);

        // The storage still takes a valid write afterwards.
        var after = new WriteRequestBuilder().Series("__name__=\"after_fuzz\"", (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 1));
        Assert.Equal(204, (await distributor.PushBodyAsync("ws-fuzz-0", Distributors.Snappy(after.Encode()), CancellationToken.None)).StatusCode);
    }
}

/// <summary>Valid remote-write bodies and mutations of them, from one seeded random source.</summary>
internal sealed class BodyGenerator(Random random)
{
    private static readonly string[] Names = ["__name__", "job", "instance", "le", "a", "zone", "_x", "b1"];
    private static readonly string[] Metrics = ["up", "http_requests_total", "node_cpu_seconds_total", "m:rate5m", "go_gc"];
    private readonly long _now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public (string Mutation, byte[] Body) Next()
    {
        int kind = random.Next(16);
        return kind switch
        {
            0 or 1 or 2 => ("valid", Snappy(Valid())),
            3 => ("truncated", Snappy(Truncate(Valid()))),
            4 => ("wire type", Snappy(FlipWireType(Valid()))),
            5 => ("huge varint", Snappy(InsertHugeVarint(Valid()))),
            6 => ("bad snappy", BreakSnappy(Snappy(Valid()))),
            7 => ("wrong length", Snappy(WrongLength(Valid()))),
            8 => ("bad utf-8", Snappy(WithLabels(l => l.Add((Bytes("a"), [0x66, 0xff, 0xc0, 0x80]))))),
            9 => ("unsorted labels", Snappy(WithLabels(l => l.Reverse()))),
            10 => ("duplicate labels", Snappy(WithLabels(l => l.Add(l[^1])))),
            11 => ("empty name", Snappy(WithLabels(l => l.Insert(0, ([], Bytes("v")))))),
            12 => ("byte flips", Snappy(FlipBytes(Valid()))),
            13 => ("extreme values", Snappy(Extremes())),
            14 => ("random bytes", Snappy(RandomBytes())),
            _ => ("over limits", Snappy(OverLimits())),
        };
    }

    private static byte[] Snappy(byte[] message) => IronSnappy.Snappy.Encode(message);
    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private List<(byte[] Name, byte[] Value)> Labels()
    {
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["__name__"] = Metrics[random.Next(Metrics.Length)] };
        int n = random.Next(4);
        for (int i = 0; i < n; i++) labels[Names[1 + random.Next(Names.Length - 1)]] = "v" + random.Next(50);
        return labels.Select(l => (Bytes(l.Key), Bytes(l.Value))).ToList();
    }

    private (long, double)[] Samples()
    {
        var samples = new (long, double)[random.Next(0, 5)];
        long t = _now - random.Next(0, 120_000);
        for (int i = 0; i < samples.Length; i++) samples[i] = (t += random.Next(1, 15_000), random.NextDouble() * 100);
        return samples;
    }

    private byte[] Valid()
    {
        var b = new WriteRequestBuilder();
        int series = random.Next(1, 6);
        for (int i = 0; i < series; i++) b.Series(Labels(), Samples());
        if (random.Next(4) == 0) b.Metadata(random.Next(8), Metrics[random.Next(Metrics.Length)], "help text");
        return b.Encode();
    }

    private byte[] WithLabels(Action<List<(byte[] Name, byte[] Value)>> change)
    {
        var b = new WriteRequestBuilder();
        b.Series(Labels(), Samples());
        var labels = Labels();
        change(labels);
        b.Series(labels, Samples());
        return b.Encode();
    }

    private byte[] Extremes()
    {
        double[] values = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, BitConverter.Int64BitsToDouble(0x7ff0000000000002), -0.0, double.Epsilon];
        long[] times = [_now, _now + 1, _now - 3_600_000, 0, -1, _now + random.Next(1, 300_000)];
        var b = new WriteRequestBuilder();
        b.Series(Labels(), (times[random.Next(times.Length)], values[random.Next(values.Length)]));
        b.Series([(Bytes("__name__"), Bytes("m")), (Bytes("a"), [])], (_now, 1));
        return b.Encode();
    }

    private byte[] OverLimits()
    {
        var b = new WriteRequestBuilder();
        switch (random.Next(3))
        {
            case 0:
                for (int i = 0; i < 201; i++) b.Series([(Bytes("__name__"), Bytes("m")), (Bytes("i"), Bytes(i.ToString()))], (_now, i));
                break;
            case 1:
                b.Series(Labels(), Enumerable.Range(0, 2_001).Select(i => (_now + i, 1.0)).ToArray());
                break;
            default:
                b.Series([(Bytes("__name__"), Bytes("m")), (Bytes("v"), new byte[3000])], (_now, 1));
                b.Series(Enumerable.Range(0, 80).Select(i => (Bytes($"l{i:D3}"), Bytes("x"))).Prepend((Bytes("__name__"), Bytes("m"))), (_now, 1));
                break;
        }
        return b.Encode();
    }

    private byte[] Truncate(byte[] m) => m.Length == 0 ? m : m[..random.Next(m.Length)];

    private byte[] FlipWireType(byte[] m)
    {
        if (m.Length == 0) return m;
        var copy = (byte[])m.Clone();
        int at = random.Next(copy.Length);
        copy[at] = (byte)((copy[at] & ~7) | random.Next(8));
        return copy;
    }

    private byte[] InsertHugeVarint(byte[] m)
    {
        int at = random.Next(m.Length + 1);
        byte[] varint = random.Next(2) == 0
            ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
            : [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        byte[] tag = random.Next(2) == 0 ? [0x0a] : [0x10];
        return [.. m.AsSpan(0, at), .. tag, .. varint, .. m.AsSpan(at)];
    }

    private byte[] WrongLength(byte[] m)
    {
        var copy = (byte[])m.Clone();
        // The byte after a length-delimited tag is (the first byte of) a length.
        for (int tries = 0; tries < 8 && copy.Length > 1; tries++)
        {
            int at = random.Next(copy.Length - 1);
            if ((copy[at] & 7) != 2) continue;
            copy[at + 1] = (byte)(copy[at + 1] + random.Next(-3, 4));
            break;
        }
        return copy;
    }

    private byte[] FlipBytes(byte[] m)
    {
        var copy = (byte[])m.Clone();
        int flips = 1 + random.Next(4);
        for (int i = 0; i < flips && copy.Length > 0; i++) copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        return copy;
    }

    private byte[] BreakSnappy(byte[] compressed)
    {
        var copy = (byte[])compressed.Clone();
        switch (random.Next(4))
        {
            case 0: return copy[..random.Next(copy.Length)];
            case 1:
                for (int i = 0; i < 3; i++) copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                return copy;
            case 2: return [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, .. copy];
            default:
                copy[0] = (byte)(copy[0] + 1 + random.Next(5));
                return copy;
        }
    }

    private byte[] RandomBytes()
    {
        var bytes = new byte[random.Next(0, 64)];
        random.NextBytes(bytes);
        return bytes;
    }
}
