using System.Globalization;
using System.Text.RegularExpressions;
using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.PromQL.Parser;

namespace Amphora.PromQL.Tests.Scripts;

/// <summary>The outcome of one <c>eval</c> of a script.</summary>
public sealed record EvalOutcome(string File, int Line, int Tier, bool Passed, string Detail);

/// <summary>
/// Runs Prometheus's PromQL test scripts (the <c>.test</c> language: load, clear, eval instant/range with expectations)
/// against Amphora's engine over an in-memory storage, and reports each eval as passed or failed with the reason.
/// </summary>
public sealed partial class ScriptRunner
{
    public static readonly string[] Tier2Files = ["native_histograms.test", "limit.test", "info.test", "duration_expression.test",
        "extended_vectors.test", "fill-modifier.test", "type_and_unit.test", "start_timestamps.test", "name_label_dropping.test"];

    private readonly PromQLEngine _engine = new(new EngineOptions { EnableExperimentalFunctions = true, EnableStartTimestamps = true });
    private readonly ScriptStorage _storage = new();

    public List<EvalOutcome> Run(string path)
    {
        string file = Path.GetFileName(path);
        int fileTier = Tier2Files.Contains(file) ? 2 : 1;
        var lines = File.ReadAllLines(path);
        var outcomes = new List<EvalOutcome>();
        _storage.Clear();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.StartsWith("load", StringComparison.Ordinal))
            {
                bool nhcb = line.StartsWith("load_with_nhcb", StringComparison.Ordinal);
                long interval = SeriesNotation.ParseTime(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
                i = Load(lines, i + 1, interval, nhcb) - 1;
                continue;
            }
            if (line == "clear")
            {
                _storage.Clear();
                continue;
            }
            if (line.StartsWith("eval", StringComparison.Ordinal))
            {
                int next = ReadBlock(lines, i + 1, out var block);
                EvalOutcome outcome;
                try
                {
                    outcome = Eval(file, i + 1, fileTier, line, block);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    outcome = new EvalOutcome(file, i + 1, fileTier, false, "runner error: " + e.Message);
                }
                outcomes.Add(outcome);
                i = next - 1;
            }
        }
        return outcomes;
    }

    private int Load(string[] lines, int i, long interval, bool nhcb)
    {
        var block = new List<(Labels Labels, List<NotationValue> Values)>();
        for (; i < lines.Length; i++)
        {
            string raw = lines[i];
            if (raw.Trim().Length == 0 || !char.IsWhiteSpace(raw[0])) break;
            if (raw.Trim().StartsWith('#')) continue;
            var (series, values) = SeriesNotation.Split(raw);
            Labels labels;
            List<NotationValue> parsed;
            try
            {
                if (SeriesNotation.StartTimestampLine(ref series, ref values))
                {
                    // metric{...}@st: each sample's start timestamp, as an offset from the sample's time.
                    labels = SeriesNotation.ParseLabels(series);
                    var offsets = SeriesNotation.ParseStartTimestampOffsets(values);
                    for (int k = 0; k < offsets.Count; k++)
                        if (offsets[k] is { } offset) _storage.SetStartTimestamp(labels, k * interval, k * interval + offset);
                    continue;
                }
                labels = SeriesNotation.ParseLabels(series);
                parsed = SeriesNotation.ParseValues(values);
            }
            catch (Exception e) when (e is ParseException or FormatException)
            {
                continue; // a series line in notation this runner does not know; its evals fail
            }
            block.Add((labels, parsed));
            for (int k = 0; k < parsed.Count; k++)
            {
                var v = parsed[k];
                if (v.Histogram is { } h) _storage.Add(labels, k * interval, h);
                else if (!v.Omitted) _storage.Add(labels, k * interval, v.Value);
            }
        }
        if (nhcb) AddCustomBucketHistograms(block, interval);
        return i;
    }

    /// <summary>
    /// load_with_nhcb also turns each classic histogram (name_bucket/_count/_sum) into native histograms with custom buckets,
    /// named after the base name, as the reference runner does.
    /// </summary>
    private void AddCustomBucketHistograms(List<(Labels Labels, List<NotationValue> Values)> block, long interval)
    {
        var byBase = new Dictionary<Labels, SortedDictionary<long, ClassicHistogram>>();
        foreach (var (labels, values) in block)
        {
            string name = labels.Get(LabelNames.MetricName);
            string? suffix = new[] { "_bucket", "_count", "_sum" }.FirstOrDefault(x => name.EndsWith(x, StringComparison.Ordinal));
            if (suffix is null) continue;
            double le = 0;
            if (suffix == "_bucket")
            {
                string text = labels.Get("le");
                le = text switch { "+Inf" or "Inf" or "+inf" or "inf" => double.PositiveInfinity, "-Inf" or "-inf" => double.NegativeInfinity,
                    _ => double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : double.NaN };
                if (double.IsNaN(le)) continue;
            }
            var builder = new LabelsBuilder(labels).Set(LabelNames.MetricName, name[..^suffix.Length]);
            builder.Delete("le");
            var key = builder.Build();
            if (!byBase.TryGetValue(key, out var byTime)) byBase[key] = byTime = new SortedDictionary<long, ClassicHistogram>();
            for (int k = 0; k < values.Count; k++)
            {
                if (values[k].Omitted || values[k].Histogram is not null) continue;
                if (!byTime.TryGetValue(k * interval, out var c)) byTime[k * interval] = c = new ClassicHistogram();
                double v = values[k].Value;
                switch (suffix)
                {
                    case "_bucket": c.Buckets[le] = v; break;
                    case "_count": c.Count = v; break;
                    default: c.Sum = v; break;
                }
            }
        }
        foreach (var (labels, byTime) in byBase)
            foreach (var (t, c) in byTime)
                if (c.Convert() is { } h) _storage.Add(labels, t, h);
    }

    /// <summary>A classic histogram at one time, collected from its series; converts to custom buckets.</summary>
    private sealed class ClassicHistogram
    {
        public SortedDictionary<double, double> Buckets { get; } = new();
        public double? Count;
        public double Sum;

        public FloatHistogram? Convert()
        {
            var bounds = Buckets.Keys.ToList();
            var cumulative = Buckets.Values.ToList();
            double count = Count ?? (cumulative.Count > 0 ? cumulative[^1] : 0);
            if (bounds.Count == 0 || !double.IsPositiveInfinity(bounds[^1]))
            {
                bounds.Add(double.PositiveInfinity);
                cumulative.Add(count);
            }
            for (int i = 0; i < cumulative.Count; i++)
                if (cumulative[i] < 0 || (i > 0 && cumulative[i] < cumulative[i - 1])) return null; // the reference runner refuses these
            if (count != cumulative[^1]) return null;
            var buckets = new double[cumulative.Count];
            for (int i = 0; i < buckets.Length; i++) buckets[i] = cumulative[i] - (i == 0 ? 0 : cumulative[i - 1]);
            return new FloatHistogram
            {
                Schema = HistogramBounds.CustomBucketsSchema,
                Count = count,
                Sum = Sum,
                CustomValues = bounds.Take(bounds.Count - 1).ToArray(),
                PositiveSpans = [new HistogramSpan(0, (uint)buckets.Length)],
                PositiveBuckets = buckets,
            }.Compact(0);
        }
    }

    /// <summary>Reads the indented lines after an eval (expectations and expected results).</summary>
    private static int ReadBlock(string[] lines, int i, out List<string> block)
    {
        block = new List<string>();
        for (; i < lines.Length; i++)
        {
            string raw = lines[i];
            if (raw.Trim().Length == 0) break;
            if (!char.IsWhiteSpace(raw[0])) break;
            if (raw.Trim().StartsWith('#')) continue;
            block.Add(raw.Trim());
        }
        return i;
    }

    [GeneratedRegex(@"^eval(?:_(?<old>fail|warn|info|ordered))?\s+instant\s+at\s+(?<at>\S+)\s+(?<expr>.+)$")]
    private static partial Regex InstantRegex();

    [GeneratedRegex(@"^eval(?:_(?<old>fail|warn|info|ordered))?\s+range\s+from\s+(?<from>\S+)\s+to\s+(?<to>\S+)\s+step\s+(?<step>\S+)\s+(?<expr>.+)$")]
    private static partial Regex RangeRegex();

    /// <summary>An expected annotation: its exact text, a pattern, or (both null) any annotation of its kind.</summary>
    private sealed record AnnotationExpectation(string? Message, string? Regex)
    {
        public bool Matches(string text) => Message is not null ? text == Message : Regex is null || System.Text.RegularExpressions.Regex.IsMatch(text, Regex);
        public override string ToString() => Message ?? "/" + Regex + "/";
    }

    private sealed class Expectations
    {
        public bool Fail, Ordered, Warn, NoWarn, Info, NoInfo;
        public string? FailMessage, FailRegex, String;
        public List<AnnotationExpectation> Warnings = new(), Infos = new();
        public (long From, long To, long Step)? RangeVector;
        public List<string> Results = new();
    }

    private EvalOutcome Eval(string file, int lineNo, int tier, string line, List<string> block)
    {
        var instant = InstantRegex().Match(line);
        var range = RangeRegex().Match(line);
        var m = instant.Success ? instant : range;
        if (!m.Success) return new EvalOutcome(file, lineNo, tier, false, "cannot read eval line: " + line);
        string expr = m.Groups["expr"].Value;
        var expect = ParseExpectations(block, m.Groups["old"].Value);

        if (tier == 1 && (block.Any(b => b.Contains("{{")) || ReachesHistograms(expr)))
            tier = 2;

        QueryResult? result = null;
        Exception? error = null;
        try
        {
            var query = instant.Success
                ? _engine.InstantQuery(_storage, expr, SeriesNotation.ParseTime(m.Groups["at"].Value))
                : _engine.RangeQuery(_storage, expr, SeriesNotation.ParseTime(m.Groups["from"].Value),
                    SeriesNotation.ParseTime(m.Groups["to"].Value), SeriesNotation.ParseTime(m.Groups["step"].Value));
            result = query.ExecAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is ParseException or PromQLException)
        {
            error = e;
        }

        string Fail(string why) => why;
        string? problem = null;
        if (expect.Fail)
        {
            if (error is null) problem = Fail("expected an error, got a result");
            else if (expect.FailMessage is not null && error.Message != expect.FailMessage)
                problem = Fail($"error \"{error.Message}\", expected \"{expect.FailMessage}\"");
            else if (expect.FailRegex is not null && !Regex.IsMatch(error.Message, expect.FailRegex))
                problem = Fail($"error \"{error.Message}\" does not match /{expect.FailRegex}/");
        }
        else if (error is not null)
        {
            problem = "unexpected error: " + error.Message;
        }
        else
        {
            problem = CheckAnnotations(expect, result!) ?? CheckResult(expect, result!, instant.Success, range.Success ? range : null);
        }
        return new EvalOutcome(file, lineNo, tier, problem is null, problem ?? "");
    }

    private bool ReachesHistograms(string expr)
    {
        if (_storage.HistogramSeries.Count == 0) return false;
        try
        {
            var parsed = PromQLParser.ParseExpr(expr);
            foreach (var node in PromQLEngine.Walk(parsed))
                if (node is VectorSelector vs && _storage.ReachesHistograms(vs.Matchers)) return true;
        }
        catch (ParseException)
        {
        }
        return false;
    }

    private static Expectations ParseExpectations(List<string> block, string old)
    {
        var e = new Expectations();
        switch (old)
        {
            case "fail": e.Fail = true; break;
            case "warn": e.Warn = true; break;
            case "info": e.Info = true; break;
            case "ordered": e.Ordered = true; break;
        }
        foreach (var line in block)
        {
            if (!line.StartsWith("expect ", StringComparison.Ordinal))
            {
                e.Results.Add(line);
                continue;
            }
            string rest = line["expect ".Length..].Trim();
            string? Value(string key)
            {
                int k = rest.IndexOf(key + ":", StringComparison.Ordinal);
                return k < 0 ? null : rest[(k + key.Length + 1)..].Trim();
            }
            if (rest.StartsWith("fail", StringComparison.Ordinal)) { e.Fail = true; e.FailMessage = Value("msg"); e.FailRegex = Value("regex"); }
            else if (rest.StartsWith("no_warn", StringComparison.Ordinal)) e.NoWarn = true;
            else if (rest.StartsWith("no_info", StringComparison.Ordinal)) e.NoInfo = true;
            else if (rest.StartsWith("warn", StringComparison.Ordinal)) { e.Warn = true; e.Warnings.Add(new(Value("msg"), Value("regex"))); }
            else if (rest.StartsWith("info", StringComparison.Ordinal)) { e.Info = true; e.Infos.Add(new(Value("msg"), Value("regex"))); }
            else if (rest.StartsWith("ordered", StringComparison.Ordinal)) e.Ordered = true;
            else if (rest.StartsWith("string", StringComparison.Ordinal)) e.String = Lexer.Unquote(new Token(TokenKind.String, 0, rest["string".Length..].Trim()));
            else if (rest.StartsWith("range vector", StringComparison.Ordinal))
            {
                var parts = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                e.RangeVector = (SeriesNotation.ParseTime(parts[3]), SeriesNotation.ParseTime(parts[5]), SeriesNotation.ParseTime(parts[7]));
            }
        }
        return e;
    }

    /// <summary>
    /// Annotations as the reference runner checks them: every expected one is among the actual ones, and when texts are
    /// expected, every actual annotation of that kind is one of them.
    /// </summary>
    private static string? CheckAnnotations(Expectations e, QueryResult r)
    {
        return Check("warning", e.Warn, e.NoWarn, e.Warnings, r.Warnings) ?? Check("info", e.Info, e.NoInfo, e.Infos, r.Infos);

        static string? Check(string kind, bool expected, bool none, List<AnnotationExpectation> wanted, IReadOnlyList<string> actual)
        {
            string got = $"[{string.Join("; ", actual)}]";
            if (expected && actual.Count == 0) return $"expected a {kind}, got none";
            if (none && actual.Count > 0) return $"expected no {kind}, got {got}";
            var specific = wanted.Where(w => w.Message is not null || w.Regex is not null).ToList();
            if (specific.Count == 0) return null;
            foreach (var w in specific)
                if (!actual.Any(w.Matches)) return $"expected {kind} \"{w}\", got {got}";
            foreach (var a in actual)
                if (!specific.Any(w => w.Matches(a))) return $"unexpected {kind} \"{a}\"";
            return null;
        }
    }
}
