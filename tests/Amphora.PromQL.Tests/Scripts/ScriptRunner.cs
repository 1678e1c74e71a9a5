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

    private readonly PromQLEngine _engine = new(new EngineOptions { EnableExperimentalFunctions = true });
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
        for (; i < lines.Length; i++)
        {
            string raw = lines[i];
            if (raw.Trim().Length == 0 || !char.IsWhiteSpace(raw[0])) break;
            if (raw.Trim().StartsWith('#')) continue;
            var (series, values) = SeriesNotation.Split(raw);
            Labels labels;
            try
            {
                labels = SeriesNotation.ParseLabels(series);
            }
            catch (ParseException)
            {
                continue; // a series line in notation this runner does not know (e.g. start timestamps); its evals fail
            }
            List<NotationValue> parsed;
            try
            {
                parsed = SeriesNotation.ParseValues(values);
            }
            catch (FormatException)
            {
                // Notation this runner does not know (native-histogram forms): the series counts as unsupported.
                _storage.HistogramSeries.Add(labels);
                continue;
            }
            if (nhcb) MarkCustomBucketHistogram(labels);
            for (int k = 0; k < parsed.Count; k++)
            {
                var v = parsed[k];
                if (v.Histogram) { _storage.HistogramSeries.Add(labels); continue; }
                if (!v.Omitted) _storage.Add(labels, k * interval, v.Value);
            }
        }
        return i;
    }

    /// <summary>
    /// load_with_nhcb also turns classic histograms (name_bucket/_count/_sum) into a native histogram with custom buckets named
    /// after the base name; evals reaching that series are tier 2.
    /// </summary>
    private void MarkCustomBucketHistogram(Labels labels)
    {
        string name = labels.Get(LabelNames.MetricName);
        foreach (var suffix in new[] { "_bucket", "_count", "_sum" })
        {
            if (!name.EndsWith(suffix, StringComparison.Ordinal)) continue;
            var builder = new LabelsBuilder(labels).Set(LabelNames.MetricName, name[..^suffix.Length]);
            builder.Delete("le");
            _storage.HistogramSeries.Add(builder.Build());
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

    private sealed class Expectations
    {
        public bool Fail, Ordered, Warn, NoWarn, Info, NoInfo;
        public string? FailMessage, FailRegex, WarnMessage, InfoMessage, String;
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
            else if (rest.StartsWith("warn", StringComparison.Ordinal)) { e.Warn = true; e.WarnMessage = Value("msg"); }
            else if (rest.StartsWith("info", StringComparison.Ordinal)) { e.Info = true; e.InfoMessage = Value("msg"); }
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

    private static string? CheckAnnotations(Expectations e, QueryResult r)
    {
        if (e.Warn && r.Warnings.Count == 0) return "expected a warning, got none";
        if (e.WarnMessage is not null && !r.Warnings.Contains(e.WarnMessage)) return $"expected warning \"{e.WarnMessage}\", got [{string.Join("; ", r.Warnings)}]";
        if (e.NoWarn && r.Warnings.Count > 0) return $"expected no warning, got [{string.Join("; ", r.Warnings)}]";
        if (e.Info && r.Infos.Count == 0) return "expected an info annotation, got none";
        if (e.InfoMessage is not null && !r.Infos.Contains(e.InfoMessage)) return $"expected info \"{e.InfoMessage}\", got [{string.Join("; ", r.Infos)}]";
        if (e.NoInfo && r.Infos.Count > 0) return $"expected no info, got [{string.Join("; ", r.Infos)}]";
        return null;
    }
}
