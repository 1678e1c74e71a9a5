using System.Text;
using System.Text.RegularExpressions;
using Amphora.Model;
using Amphora.PromQL.Parser;

namespace Amphora.PromQL.Engine;

internal sealed partial class Evaluator
{
    private string StringArg(Call call, int i) => ((StringResult)Eval(call.Args[i])).Value;

    private SeriesResult EvalLabelReplace(Call call)
    {
        string dst = StringArg(call, 1), replacement = StringArg(call, 2), src = StringArg(call, 3), pattern = StringArg(call, 4);
        Re2Regex regex;
        try
        {
            regex = Re2.Compile(pattern);
        }
        catch (Re2SyntaxException e) when (e.IsLimit)
        {
            // The pattern is valid RE2 but beyond one of Amphora's bounds: say which, without echoing a huge pattern.
            throw new PromQLException(PromQLErrorType.BadData, $"regular expression in label_replace() refused: {e.Message}");
        }
        catch (ArgumentException)
        {
            throw new PromQLException(PromQLErrorType.Execution, $"invalid regular expression in label_replace(): {pattern}");
        }
        if (!LabelNames.IsValid(dst))
            throw new PromQLException(PromQLErrorType.Execution, $"invalid destination label name in label_replace(): {dst}");
        var cache = new Dictionary<Labels, Labels>();
        return MapVector(call.Args[0], metric =>
        {
            if (cache.TryGetValue(metric, out var cached)) return cached;
            var match = regex.Match(LabelValue(metric, src));
            var result = metric;
            if (match.Success) result = WithLabel(metric, dst, Expand(match, regex, replacement));
            cache[metric] = result;
            return result;
        });
    }

    /// <summary>
    /// Expands $1, ${1}, $name and ${name} as Go's Regexp.Expand does: a name is as long as possible, a number has no leading
    /// zero, a name refers to the first group of that name that took part in the match, and an unknown or unmatched group
    /// expands to nothing.
    /// </summary>
    private static string Expand(Match match, Re2Regex regex, string template)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < template.Length; i++)
        {
            char c = template[i];
            if (c != '$' || i + 1 >= template.Length) { sb.Append(c); continue; }
            char next = template[i + 1];
            if (next == '$') { sb.Append('$'); i++; continue; }
            string name;
            int end;
            if (next == '{')
            {
                int close = template.IndexOf('}', i + 2);
                if (close < 0) { sb.Append(c); continue; }
                name = template[(i + 2)..close];
                end = close;
            }
            else
            {
                int j = i + 1;
                while (j < template.Length && IsWordChar(template[j])) j++;
                if (j == i + 1) { sb.Append(c); continue; }
                name = template[(i + 1)..j];
                end = j - 1;
            }
            if (name.Length == 0 || !name.All(IsWordChar)) { sb.Append(c); continue; }
            if (GroupOf(match, regex, name) is { Success: true } group) sb.Append(group.Value);
            i = end;
        }
        return sb.ToString();
    }

    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static Group? GroupOf(Match match, Re2Regex regex, string name)
    {
        bool numeric = name.Length <= 9 && name.All(char.IsAsciiDigit) && (name[0] != '0' || name.Length == 1);
        if (numeric)
        {
            int number = int.Parse(name, System.Globalization.CultureInfo.InvariantCulture);
            return number < match.Groups.Count ? match.Groups[number] : null;
        }
        for (int n = 1; n < regex.GroupCount && n < match.Groups.Count; n++)
            if (regex.GroupName(n) == name && match.Groups[n].Success) return match.Groups[n];
        return null;
    }

    private SeriesResult EvalLabelJoin(Call call)
    {
        string dst = StringArg(call, 1), separator = StringArg(call, 2);
        var sources = Enumerable.Range(3, call.Args.Count - 3).Select(i => StringArg(call, i)).ToArray();
        if (!LabelNames.IsValid(dst))
            throw new PromQLException(PromQLErrorType.Execution, $"invalid destination label name in label_join(): {dst}");
        foreach (var s in sources)
            if (!LabelNames.IsValid(s))
                throw new PromQLException(PromQLErrorType.Execution, $"invalid source label name in label_join(): {s}");
        return MapVector(call.Args[0], metric =>
        {
            string value = string.Join(separator, sources.Select(s => LabelValue(metric, s)));
            return WithLabel(metric, dst, value);
        });
    }

    /// <summary>The labels with <paramref name="dst"/> set (removed when empty); setting the name keeps it (no longer dropped).</summary>
    private static Labels WithLabel(Labels metric, string dst, string value)
    {
        var builder = new LabelsBuilder(metric);
        if (value.Length == 0) builder.Delete(dst);
        else builder.Set(dst, value);
        if (dst == LabelNames.MetricName) builder.Delete(DroppedNameLabel);
        return builder.Build();
    }

    /// <summary>Relabels every sample of a vector expression; values unchanged.</summary>
    private SeriesResult MapVector(Expr arg, Func<Labels, Labels> relabel)
    {
        var input = (SeriesResult)Eval(arg);
        var output = new SeriesAccumulator();
        var cursor = new StepCursor(input.Series);
        var vector = new List<Sample>();
        for (int i = 0; i < StepCount; i++)
        {
            _ct.ThrowIfCancellationRequested();
            cursor.At(StepTime(i), vector);
            foreach (var s in vector) output.Add(relabel(s.Metric), StepTime(i), s.F, s.H);
        }
        return output.Result();
    }

    /// <summary>sort, sort_desc and sort_by_label(_desc) only order an instant query's result; range results are sorted by labels.</summary>
    private SeriesResult EvalSort(Call call)
    {
        var input = (SeriesResult)Eval(call.Args[0]);
        string name = call.Function.Name;
        if (_queryStep > 0)
            _warnings.Add("PromQL warning: sort is ineffective for range queries since results are always ordered by labels");
        var list = input.Series.Where(s => s.Points.Count > 0).ToList();
        if (name is "sort" or "sort_desc")
        {
            list.RemoveAll(s => s.Points[0].H is not null); // sort and sort_desc drop histograms
            bool desc = name == "sort_desc";
            list.Sort((a, b) =>
            {
                double x = a.Points[0].F, y = b.Points[0].F;
                if (double.IsNaN(x)) return double.IsNaN(y) ? 0 : 1;
                if (double.IsNaN(y)) return -1;
                return desc ? y.CompareTo(x) : x.CompareTo(y);
            });
        }
        else
        {
            var labels = Enumerable.Range(1, call.Args.Count - 1).Select(i => StringArg(call, i)).ToArray();
            bool desc = name == "sort_by_label_desc";
            list.Sort((a, b) =>
            {
                foreach (var l in labels)
                {
                    int c = NaturalCompare(a.Metric.Get(l), b.Metric.Get(l));
                    if (c != 0) return desc ? -c : c;
                }
                int all = a.Metric.CompareTo(b.Metric);
                return desc ? -all : all;
            });
        }
        return new SeriesResult(list);
    }

    /// <summary>Compares strings with runs of digits compared as numbers ("a2" before "a10").</summary>
    private static int NaturalCompare(string a, string b)
    {
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            if (char.IsAsciiDigit(a[i]) && char.IsAsciiDigit(b[j]))
            {
                int si = i, sj = j;
                while (i < a.Length && char.IsAsciiDigit(a[i])) i++;
                while (j < b.Length && char.IsAsciiDigit(b[j])) j++;
                string na = a[si..i].TrimStart('0'), nb = b[sj..j].TrimStart('0');
                if (na.Length != nb.Length) return na.Length.CompareTo(nb.Length);
                int c = string.CompareOrdinal(na, nb);
                if (c != 0) return c;
                continue;
            }
            if (a[i] != b[j]) return a[i].CompareTo(b[j]);
            i++;
            j++;
        }
        return (a.Length - i).CompareTo(b.Length - j);
    }
}
