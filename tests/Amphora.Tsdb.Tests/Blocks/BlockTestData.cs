using System.Globalization;
using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Blocks;
using Amphora.Tsdb.Chunks;
using Xunit;

namespace Amphora.Tsdb.Tests.Blocks;

/// <summary>Deterministic series of every kind a block must carry, and helpers to write, read and dump them.</summary>
internal static class BlockTestData
{
    public const long Start = 1_700_000_000_000;

    /// <summary>Counters, gauges, constants, NaN, ±Inf and stale markers; 15 s apart with jitter, some series with gaps.</summary>
    public static SortedDictionary<Labels, List<(long T, double V)>> Generate(int seriesCount, int samplesPerSeries, int seed)
    {
        var random = new Random(seed);
        var result = new SortedDictionary<Labels, List<(long, double)>>();
        for (int s = 0; s < seriesCount; s++)
        {
            var labels = Labels.FromStrings("__name__", $"metric_{s % 7}", "instance", $"host-{s / 7}:9100", "job", s % 3 == 0 ? "node" : "app",
                "kind", (s % 5).ToString(CultureInfo.InvariantCulture));
            var samples = new List<(long, double)>(samplesPerSeries);
            long t = Start + random.Next(0, 15_000);
            double v = random.Next(0, 1000);
            for (int i = 0; i < samplesPerSeries; i++)
            {
                v = (s % 5) switch
                {
                    0 => v + random.Next(0, 100),                                   // counter
                    1 => Math.Round(random.NextDouble() * 1e6) / 100,                // gauge
                    2 => 42,                                                         // constant
                    3 => i % 50 == 7 ? double.NaN : i % 50 == 8 ? double.PositiveInfinity : i % 50 == 9 ? double.NegativeInfinity : random.NextDouble() - 0.5,
                    _ => i % 40 == 39 ? StaleNaN.Value : random.NextDouble() * 1e-9,
                };
                samples.Add((t, v));
                t += 15_000 + (random.Next(0, 10) == 0 ? random.Next(-200, 200) : 0) + (random.Next(0, 200) == 0 ? 600_000 : 0);
            }
            result[labels] = samples;
        }
        return result;
    }

    public static (BlockMeta Meta, string Dir) WriteBlock(string parent, SortedDictionary<Labels, List<(long T, double V)>> data)
    {
        long min = data.Values.Min(s => s[0].T), max = data.Values.Max(s => s[^1].T) + 1;
        return BlockWriter.Write(parent, data.Select(kv => (kv.Key, (IReadOnlyList<ChunkData>)BlockWriter.Encode(kv.Value))), min, max,
            new AmphoraBlockInfo { Workspace = "ws-test", Ingester = "ingester-0" });
    }

    public static List<(long T, double V)> Samples(ISampleIterator it)
    {
        var list = new List<(long, double)>();
        while (it.Next() != Amphora.Storage.ValueType.None) list.Add(it.At());
        Assert.Null(it.Err);
        return list;
    }

    public static void AssertSameSamples(IReadOnlyList<(long T, double V)> expected, IReadOnlyList<(long T, double V)> actual, string series)
    {
        Assert.True(expected.Count == actual.Count, $"{series}: expected {expected.Count} samples, got {actual.Count}");
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].T == actual[i].T, $"{series}: sample {i} at {actual[i].T}, expected {expected[i].T}");
            Assert.True(BitConverter.DoubleToInt64Bits(expected[i].V) == BitConverter.DoubleToInt64Bits(actual[i].V),
                $"{series}: sample {i} value {actual[i].V}, expected {expected[i].V} (bit-exact)");
        }
    }

    /// <summary>Runs promtool from Debian's prometheus package; a missing promtool fails the test (./test.sh installs it).</summary>
    public static string Promtool(params string[] args)
    {
        var run = Amphora.Testing.DebianTool.Run("promtool", "prometheus", TimeSpan.FromMinutes(2), args);
        Assert.True(run.ExitCode == 0, $"promtool {string.Join(' ', args)} failed ({run.ExitCode}): {run.Stderr}");
        return run.Stdout;
    }

    /// <summary>Parses `promtool tsdb dump` lines: {labels} value timestamp.</summary>
    public static Dictionary<string, List<(long T, double V)>> ParseDump(string dump)
    {
        var result = new Dictionary<string, List<(long, double)>>(StringComparer.Ordinal);
        foreach (var line in dump.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int close = line.LastIndexOf('}');
            var rest = line[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string key = line[..(close + 1)];
            double v = rest[0] switch
            {
                "NaN" => double.NaN,
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var text => double.Parse(text, CultureInfo.InvariantCulture),
            };
            if (!result.TryGetValue(key, out var list)) result[key] = list = new List<(long, double)>();
            list.Add((long.Parse(rest[1], CultureInfo.InvariantCulture), v));
        }
        return result;
    }

    /// <summary>The labels as promtool prints them: {name="value", ...} with Go-quoted values.</summary>
    public static string DumpKey(Labels labels) =>
        "{" + string.Join(", ", labels.Select(l => $"{l.Name}=\"{l.Value.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"")) + "}";
}
