using System.Text;
using Amphora.Distributor.Prompb;

using Google.Protobuf;
using Xunit;
using Xunit.Abstractions;

namespace Amphora.Distributor.Tests;

/// <summary>
/// The in-place reader of remote-write 1.0 bodies and the cache of validated label sets behind it: on random and malformed
/// bodies, <see cref="DistributorService.PushBodyAsync"/> answers and stores exactly what the generated parser's path
/// (<see cref="RemoteWriteDecoder.TryDecode"/>, then <see cref="DistributorService.PushAsync"/>) answers and stores; the reader
/// declines what it does not read and accepts only what the generated parser accepts, with the same content.
/// </summary>
public sealed class WriteRequestReaderTests(ITestOutputHelper output)
{
    private static readonly DistributorOptions Options = new()
    {
        RequestShape = new RequestShapeLimits { MaxSeriesPerRequest = 50, MaxSamplesPerRequest = 400, MaxLabelsPerRequest = 400 },
        Validation = new ValidationOptions { MaxLabelNamesPerSeries = 6, MaxLabelValueLength = 24 },
    };

    /// <summary>Records each push, metadata included, as text that compares exactly (float bits, every field).</summary>
    private sealed class TextPush : IIngesterPush
    {
        public StringBuilder Log { get; } = new();
        public bool StoresHistograms => true;

        public Task<PushOutcome> PushAsync(string workspace, IReadOnlyList<ValidSeries> series, IReadOnlyList<Amphora.Storage.MetricMetadata> metadata,
            CancellationToken ct)
        {
            Log.Append("push ").Append(workspace).Append('\n');
            foreach (var s in series)
            {
                Log.Append(s.Labels).Append(':');
                for (int i = 0; i < s.Timestamps.Length; i++)
                    Log.Append(' ').Append(s.Timestamps[i]).Append('/').Append(BitConverter.DoubleToInt64Bits(s.Values[i])).Append('/').Append(s.StartTimestampAt(i));
                Log.Append(s.StartTimestamps is null ? " no-st" : " st");
                foreach (var (t, h) in s.Histograms) Log.Append(" h@").Append(t).Append(' ').Append(h.Count).Append(' ').Append(h.Schema).Append(' ').Append(h.Sum);
                foreach (var (t, h) in s.FloatHistograms) Log.Append(" fh@").Append(t).Append(' ').Append(h.Count).Append(' ').Append(h.Sum);
                foreach (var e in s.Exemplars) Log.Append(" e ").Append(e.Labels).Append(' ').Append(e.Value).Append(" ").Append(e.T);
                Log.Append('\n');
            }
            foreach (var m in metadata) Log.Append("meta ").Append(m).Append('\n');
            return Task.FromResult(new PushOutcome { Accepted = series.Sum(s => (long)s.Timestamps.Length) });
        }
    }

    /// <summary>One clock for both paths, so the refusals of samples too far in the future read alike.</summary>
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static readonly FixedClock Clock = new(DateTimeOffset.UtcNow);

    private static DistributorService Create(IIngesterPush push) =>
        new(push, Options, Microsoft.Extensions.Logging.Abstractions.NullLogger<DistributorService>.Instance) { Clock = Clock };

    [Fact]
    public async Task Random_and_mutated_bodies_get_the_answers_and_the_stored_series_of_the_generated_parser()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("AMPHORA_FUZZ_SEED"), out int s) ? s : 20261207;
        output.WriteLine($"seed {seed} (AMPHORA_FUZZ_SEED reproduces this run)");
        var random = new Random(seed);
        int read = 0, declined = 0, accepted = 0, refused = 0;
        var mutations = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < 6_000; i++)
        {
            var (mutation, message) = Body(random, Clock.GetUtcNow().ToUnixTimeMilliseconds());
            var body = Distributors.Snappy(message);
            string workspace = "ws-reader-" + random.Next(3);
            var viaParser = new TextPush();
            var reference = Create(viaParser);
            PushResult expected = RemoteWriteDecoder.TryDecode(body, Options, out var request, out _, out var refusal)
                ? await reference.PushAsync(workspace, request!, CancellationToken.None)
                : refusal!;
            var viaReader = new TextPush();
            var actual = await Create(viaReader).PushBodyAsync(workspace, body, CancellationToken.None);

            string what = $"body {i} ({mutation}, seed {seed}): {Convert.ToHexString(message)}";
            Assert.True(expected.StatusCode == actual.StatusCode, $"{what}\nexpected {expected}\nactual {actual}");
            Assert.True(expected.Message == actual.Message, $"{what}\nexpected {expected.Message}\nactual {actual.Message}");
            Assert.True((expected.Rejected, expected.RejectedHistograms, expected.Exemplars) == (actual.Rejected, actual.RejectedHistograms, actual.Exemplars), what);
            Assert.True(viaParser.Log.ToString() == viaReader.Log.ToString(), $"{what}\nexpected {viaParser.Log}\nactual {viaReader.Log}");

            // The reader on its own: what it accepts, the framing scan and the generated parser accept, with the same series.
            var decoded = IronSnappy.Snappy.Decode(body);
            if (WriteRequestReader.TryRead(decoded, Options.RequestShape, out var raw))
            {
                read++;
                Assert.True(WriteRequestScan.TryScan(decoded, Options.RequestShape, out _, out var shapeError), $"{what}: the reader accepted what the scan refuses: {shapeError?.Message}");
                Assert.True(RemoteWriteDecoder.TryParse(decoded, out var parsed, out var why), $"{what}: the reader accepted what the parser refuses: {why?.Message}");
                using (raw) AssertSame(parsed!, raw!, what);
            }
            else declined++;
            if (actual.StatusCode == 204) accepted++;
            else refused++;
            mutations[mutation] = mutations.GetValueOrDefault(mutation) + 1;
        }
        output.WriteLine($"read in place {read}, declined {declined}; answered 204 {accepted}, refused {refused}");
        output.WriteLine(string.Join(", ", mutations.Select(m => $"{m.Key} {m.Value}")));
        // The run exercises both paths and both answers.
        Assert.True(read > 1_000 && declined > 200 && accepted > 1_000 && refused > 1_000, $"read {read}, declined {declined}, accepted {accepted}, refused {refused}");
    }

    private static void AssertSame(WriteRequest parsed, RawWriteRequest raw, string what)
    {
        Assert.True(parsed.Timeseries.Count == raw.Series.Length, what);
        var scratch = new RawLabel[64];
        for (int i = 0; i < raw.Series.Length; i++)
        {
            var ts = parsed.Timeseries[i];
            var r = raw.Series[i];
            var labels = raw.LabelsOf(r, scratch);
            Assert.True(ts.Labels.Count == labels.Length, what);
            for (int j = 0; j < labels.Length; j++)
                Assert.True(ts.Labels[j].Name.Span.SequenceEqual(labels[j].Name.Span) && ts.Labels[j].Value.Span.SequenceEqual(labels[j].Value.Span), what);
            var st = raw.StartTimestampsOf(r).ToArray();
            Assert.True(ts.Samples.Select(x => (x.Timestamp, BitConverter.DoubleToInt64Bits(x.Value), x.StartTimestamp))
                .SequenceEqual(raw.TimestampsOf(r).ToArray().Select((t, k) => (t, BitConverter.DoubleToInt64Bits(raw.ValuesOf(r)[k]), st.Length == 0 ? 0 : st[k]))), what);
            Assert.True(ts.Exemplars.SequenceEqual(raw.ExemplarsOf(r)) && ts.Histograms.SequenceEqual(raw.HistogramsOf(r)), what);
            if (r.LabelBytesLength >= 0)
            {
                // The cache key, the label fields as sent, holds exactly the series' labels and nothing else.
                var keyed = TimeSeries.Parser.WithDiscardUnknownFields(true).ParseFrom(raw.LabelBytesOf(r));
                Assert.True(keyed.Labels.SequenceEqual(ts.Labels) && keyed.Samples.Count == 0 && keyed.Exemplars.Count == 0 && keyed.Histograms.Count == 0, what);
            }
        }
        Assert.True(parsed.Metadata.SequenceEqual(raw.Metadata), what);
    }

    private static readonly string[] Names = ["job", "instance", "a", "b", "le", "zz"];
    private static readonly string[] InvalidNames = ["__x", "0bad", ""];
    private static readonly string[] Values = ["up", "node", "host-1:9100", "x", "", "0.5", "é", "cpu"];

    /// <summary>A body of a few series from a small vocabulary (so series repeat and hit the cache), then perhaps one mutation.</summary>
    private static (string Mutation, byte[] Message) Body(Random random, long now)
    {
        var request = new WriteRequest();
        // Now and then more series, labels or samples than the shape limits allow (50, 400, 400).
        int series = random.Next(40) == 0 ? random.Next(45, 60) : random.Next(1, 5);
        for (int i = 0; i < series; i++)
        {
            var ts = new TimeSeries();
            ts.Labels.Add(new Label { Name = ByteString.CopyFromUtf8("__name__"), Value = ByteString.CopyFromUtf8(random.Next(4) == 0 ? "other_metric" : "up") });
            int labels = random.Next(0, 4);
            var names = Names.OrderBy(_ => random.Next()).Take(labels).ToList();
            if (random.Next(20) == 0) names.Add(InvalidNames[random.Next(InvalidNames.Length)]);
            if (random.Next(10) != 0) names.Sort(StringComparer.Ordinal);
            if (random.Next(12) == 0 && names.Count > 0) names.Add(names[0]);
            foreach (var n in names)
                ts.Labels.Add(new Label { Name = ByteString.CopyFromUtf8(n), Value = random.Next(40) == 0 ? ByteString.CopyFrom(0xc3, 0x28)
                    : ByteString.CopyFromUtf8(random.Next(40) == 0 ? "a-rather-long-value-over-24-bytes" : Values[random.Next(Values.Length)]) });
            int samples = random.Next(60) == 0 ? random.Next(100, 450) : random.Next(0, 4);
            for (int j = 0; j < samples; j++)
                ts.Samples.Add(new Sample
                {
                    Timestamp = random.Next(30) == 0 ? now + 3_600_000 : random.Next(10) == 0 ? -random.Next(1000) : now - random.Next(100_000),
                    Value = random.Next(10) == 0 ? double.NaN : random.NextDouble() * 100,
                    StartTimestamp = random.Next(8) == 0 ? now - 1000 : 0,
                });
            if (random.Next(6) == 0)
            {
                var e = new Exemplar { Value = random.NextDouble(), Timestamp = now - random.Next(1000) };
                e.Labels.Add(new Label { Name = ByteString.CopyFromUtf8(random.Next(5) == 0 ? "0bad" : "trace_id"), Value = ByteString.CopyFromUtf8("abc" + random.Next(9)) });
                ts.Exemplars.Add(e);
            }
            if (random.Next(8) == 0)
            {
                var h = new Prompb.Histogram { CountInt = 3, Sum = 1.5, Schema = random.Next(3) == 0 ? 9 : 0, ZeroThreshold = 1e-128, ZeroCountInt = 1, Timestamp = now - random.Next(1000) };
                h.PositiveSpans.Add(new BucketSpan { Offset = 0, Length = 2 });
                h.PositiveDeltas.Add(1);
                h.PositiveDeltas.Add(0);
                ts.Histograms.Add(h);
            }
            request.Timeseries.Add(ts);
        }
        if (random.Next(5) == 0)
            request.Metadata.Add(new MetricMetadata { MetricFamilyName = "up", Type = MetricMetadata.Types.MetricType.Gauge, Help = "h" + random.Next(3), Unit = "" });
        var bytes = request.ToByteArray();
        return random.Next(3) == 0 ? ("none", bytes) : Mutate(random, bytes);
    }

    private static (string, byte[]) Mutate(Random random, byte[] bytes)
    {
        var b = bytes.ToList();
        int at = b.Count == 0 ? 0 : random.Next(b.Count);
        switch (random.Next(9))
        {
            case 0: return ("truncated", bytes[..at]);
            case 1:
                if (b.Count > 0) b[at] ^= (byte)(1 << random.Next(8));
                return ("bit flip", b.ToArray());
            case 2:
                if (b.Count > 0) b[at] = (byte)random.Next(256);
                return ("random byte", b.ToArray());
            case 3:
                b.InsertRange(at, Enumerable.Range(0, random.Next(1, 4)).Select(_ => (byte)random.Next(256)));
                return ("inserted bytes", b.ToArray());
            case 4:
                // An unknown field inside a series, a label or a sample (a valid frame anywhere: its tag and payload).
                b.InsertRange(at, random.Next(4) switch
                {
                    0 => [0x78, 0x05],
                    1 => [0x2a, 0x01, 0x00],
                    2 => [0x31, 1, 2, 3, 4, 5, 6, 7, 8],
                    _ => [0x3d, 1, 2, 3, 4],
                });
                return ("unknown field", b.ToArray());
            case 5:
                // Wrong wire type: turn a tag's wire type into another.
                if (b.Count > 0) b[at] = (byte)((b[at] & ~7) | random.Next(8));
                return ("wire type", b.ToArray());
            case 6:
                b.InsertRange(at, [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
                return ("huge length", b.ToArray());
            case 7:
                b.InsertRange(at, [0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, random.Next(2) == 0 ? (byte)0x01 : (byte)0x7f]);
                return ("long varint", b.ToArray());
            default:
                // A repeated scalar inside a label or a sample: the last value wins.
                b.InsertRange(at, [0x0a, 0x02, 0x61, 0x62]);
                return ("repeated field", b.ToArray());
        }
    }
}
