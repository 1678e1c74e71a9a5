using Amphora.Model;
using Amphora.PromQL.Parser;
using Amphora.Storage;

namespace Amphora.PromQL.Engine;

internal sealed partial class Evaluator
{
    /// <summary>Functions whose result keeps the input's metric name.</summary>
    private static readonly HashSet<string> KeepsName = ["last_over_time", "first_over_time", "sort", "sort_desc", "sort_by_label",
        "sort_by_label_desc", "label_replace", "label_join"];

    private EvalResult EvalCall(Call call)
    {
        string name = call.Function.Name;
        int matrixArg = -1;
        for (int i = 0; i < call.Args.Count; i++)
            if (call.Args[i].Type == PromValueType.Matrix) matrixArg = i;
        if (name == "absent_over_time") return EvalAbsentOverTime(call);
        if (matrixArg >= 0) return EvalRangeFunction(call, matrixArg);

        switch (name)
        {
            case "time": return new ScalarSteps(Enumerable.Range(0, StepCount).Select(i => StepTime(i) / 1000.0).ToArray());
            case "pi": return Fill(Math.PI);
            case "step": return Fill(_queryStep / 1000.0);
            case "range": return Fill((_queryEnd - _queryStart) / 1000.0);
            case "start": return Fill(_queryStart / 1000.0);
            case "end": return Fill(_queryEnd / 1000.0);
            case "min_of" or "max_of":
            {
                var a = ((ScalarSteps)Eval(call.Args[0])).Values;
                var b = ((ScalarSteps)Eval(call.Args[1])).Values;
                var values = new double[a.Length];
                for (int i = 0; i < a.Length; i++)
                    values[i] = double.IsNaN(a[i]) || double.IsNaN(b[i]) ? double.NaN : name == "min_of" ? Math.Min(a[i], b[i]) : Math.Max(a[i], b[i]);
                return new ScalarSteps(values);
            }
            case "vector":
            {
                var s = (ScalarSteps)Eval(call.Args[0]);
                var output = new SeriesAccumulator();
                for (int i = 0; i < StepCount; i++) output.Add(Labels.Empty, StepTime(i), s.Values[i]);
                return output.Result();
            }
            case "scalar":
            {
                var input = (SeriesResult)Eval(call.Args[0]);
                var cursor = new StepCursor(input.Series);
                var vector = new List<Sample>();
                var values = new double[StepCount];
                for (int i = 0; i < StepCount; i++)
                {
                    _ct.ThrowIfCancellationRequested();
                    cursor.At(StepTime(i), vector);
                    // The single float of the vector; histograms do not count.
                    double value = double.NaN;
                    int floats = 0;
                    foreach (var s in vector)
                        if (s.H is null && ++floats == 1) value = s.F;
                    values[i] = floats == 1 ? value : double.NaN;
                }
                return new ScalarSteps(values);
            }
            case "timestamp":
            {
                var arg = Unwrap(call.Args[0]);
                if (arg is VectorSelector vs)
                {
                    var r = EvalVectorSelector(vs, timestamps: true);
                    foreach (var s in r.Series) s.Metric = DropName(s.Metric);
                    return new SeriesResult(MergeSameLabels(r.Series));
                }
                return MapVector(call, (metric, ts, _, _) => (DropName(metric), ts / 1000.0), mapsHistograms: true);
            }
            case "start_timestamp":
            {
                // Only samples read from storage have start timestamps; a computed vector's are lost, so it has no result.
                if (Unwrap(call.Args[0]) is not VectorSelector vs) return new SeriesResult([]);
                var r = EvalVectorSelector(vs, timestamps: false, startTimestamps: true);
                foreach (var s in r.Series) s.Metric = DropName(s.Metric);
                return new SeriesResult(MergeSameLabels(r.Series));
            }
            case "absent": return EvalAbsent(call);
            case "label_replace": return EvalLabelReplace(call);
            case "label_join": return EvalLabelJoin(call);
            case "histogram_quantile": return EvalHistogramQuantile(call);
            case "histogram_fraction": return EvalHistogramFraction(call);
            case "histogram_quantiles": return EvalHistogramQuantiles(call);
            case "sort" or "sort_desc" or "sort_by_label" or "sort_by_label_desc": return EvalSort(call);
            case "info": return EvalInfo(call);
            case "histogram_avg" or "histogram_count" or "histogram_sum" or "histogram_stddev" or "histogram_stdvar":
                return MapHistograms(call, name switch
                {
                    "histogram_count" => static h => h.Count,
                    "histogram_sum" => static h => h.Sum,
                    "histogram_avg" => static h => h.Sum / h.Count,
                    "histogram_stddev" => static h => Math.Sqrt(NativeHistogramMath.Variance(h)),
                    _ => NativeHistogramMath.Variance,
                });
        }
        if (TimeFunctions.Get(name) is { } timeFunction)
        {
            if (call.Args.Count == 0)
            {
                var output = new SeriesAccumulator();
                for (int i = 0; i < StepCount; i++) output.Add(Labels.Empty, StepTime(i), timeFunction(StepTime(i) / 1000.0));
                return output.Result();
            }
            return MapVector(call, (metric, _, v, _) => (DropName(metric), timeFunction(v)));
        }
        if (name == "clamp")
        {
            // clamp with min > max returns nothing (NaN bounds give NaN).
            return MapVector(call, (metric, _, v, a) =>
                a[0] > a[1] ? (null, 0) : (DropName(metric), double.IsNaN(a[0]) || double.IsNaN(a[1]) ? double.NaN : Math.Max(a[0], Math.Min(a[1], v))));
        }
        if (MathFunctions.Get(name) is { } math)
            return MapVector(call, (metric, _, v, args) => (DropName(metric), math(v, args)));
        throw new PromQLException(PromQLErrorType.Execution, $"function \"{name}\" is not supported yet");
    }

    private static Expr Unwrap(Expr e) => e is ParenExpr p ? Unwrap(p.Expr) : e;

    /// <summary>A function of each native histogram of the argument; float samples yield nothing. The name is dropped.</summary>
    private SeriesResult MapHistograms(Call call, Func<FloatHistogram, double> f)
    {
        var input = (SeriesResult)Eval(call.Args[0]);
        var output = new SeriesAccumulator();
        foreach (var s in input.Series)
        {
            List<FPoint>? points = null;
            foreach (var p in s.Points)
                if (p.H is not null) (points ??= new List<FPoint>()).Add(new FPoint(p.T, f(p.H)));
            if (points is not null) output.AddSeries(DropName(s.Metric), points);
        }
        return output.Result();
    }

    /// <summary>Applies a per-sample function to the first (vector) argument; other arguments are scalars per step.</summary>
    private SeriesResult MapVector(Call call, Func<Labels, long, double, double[], (Labels?, double)> map, bool mapsHistograms = false)
    {
        var input = (SeriesResult)Eval(call.Args[0]);
        var scalars = call.Args.Skip(1).Select(a => ((ScalarSteps)Eval(a)).Values).ToArray();
        var cursor = new StepCursor(input.Series);
        var vector = new List<Sample>();
        var output = new SeriesAccumulator();
        var args = new double[scalars.Length];
        for (int i = 0; i < StepCount; i++)
        {
            _ct.ThrowIfCancellationRequested();
            long ts = StepTime(i);
            cursor.At(ts, vector);
            for (int a = 0; a < scalars.Length; a++) args[a] = scalars[a][i];
            foreach (var s in vector)
            {
                if (s.H is not null && !mapsHistograms) continue; // float functions skip histogram samples
                var (metric, value) = map(s.Metric, ts, s.F, args);
                if (metric is not null) output.Add(metric, ts, value);
            }
        }
        return output.Result();
    }

    /// <summary>A function over a range vector: each series' samples are read once and a window slides over the steps.</summary>
    private SeriesResult EvalRangeFunction(Call call, int matrixArg, bool keepNames = false)
    {
        string name = call.Function.Name;
        var function = RangeFunctions.Get(name) ?? throw new PromQLException(PromQLErrorType.Execution, $"function \"{name}\" is not supported yet");
        double[]? arg1 = null, arg2 = null;
        var scalarArgs = call.Args.Where((_, i) => i != matrixArg).Select(a => ((ScalarSteps)Eval(a)).Values).ToList();
        if (scalarArgs.Count > 0) arg1 = scalarArgs[0];
        if (scalarArgs.Count > 1) arg2 = scalarArgs[1];
        if (name == "double_exponential_smoothing") CheckSmoothingFactors(arg1!, arg2!);
        if (name == "quantile_over_time" && arg1 is not null && arg1.Any(q => q < 0 || q > 1))
            _warnings.Add($"PromQL warning: quantile value should be between 0 and 1, got {FormatValue(arg1.First(q => q < 0 || q > 1))}");
        bool keepName = keepNames || KeepsName.Contains(name);
        var output = new SeriesAccumulator();
        var matrix = Unwrap(call.Args[matrixArg]);

        long range, offset;
        long? at;
        bool anchored = false, smoothed = false;
        IEnumerable<(Labels Labels, Func<(SampleBuffer B, int N)> Load)> inputs;
        var buffer = new SampleBuffer(256);
        if (matrix is MatrixSelector ms)
        {
            range = ms.RangeMs;
            offset = ms.Selector.Modifiers.OffsetMs;
            at = ms.Selector.Modifiers.AtMs;
            (anchored, smoothed) = (ms.Selector.Anchored, ms.Selector.Smoothed);
            long from = (at ?? _start) - offset - range, to = (at ?? _end) - offset;
            if (anchored || smoothed) from -= _lookback;
            if (smoothed) to += _lookback;
            bool statsOnly = _statsOnly.Contains(ms.Selector);
            ISampleIterator? reuse = null;
            inputs = _selected[ms.Selector].Select(s => (s.Labels, (Func<(SampleBuffer, int)>)(() =>
            {
                int n = LoadSamples(s, from + 1, to, buffer, ref reuse, statsOnly);
                return (buffer, n);
            })));
        }
        else
        {
            var sq = (SubqueryExpr)matrix;
            range = sq.RangeMs;
            offset = sq.Modifiers.OffsetMs;
            at = sq.Modifiers.AtMs;
            var sub = EvalSubquery(sq, out _);
            inputs = sub.Series.Select(s => (s.Metric, (Func<(SampleBuffer, int)>)(() =>
            {
                var b = new SampleBuffer(Math.Max(1, s.Points.Count));
                for (int i = 0; i < s.Points.Count; i++)
                {
                    b.T[i] = s.Points[i].T;
                    b.V[i] = s.Points[i].F;
                    // A subquery's histograms are not consecutive samples: their counter-reset hints no longer hold
                    // (prometheus/prometheus#15987), so resets are detected afresh.
                    var h = s.Points[i].H;
                    if (h is { CounterResetHint: CounterResetHint.CounterReset or CounterResetHint.NotCounterReset })
                    {
                        h = h.Copy();
                        h.CounterResetHint = CounterResetHint.Unknown;
                    }
                    b.H[i] = h;
                    if (h is not null) b.Histograms++;
                }
                return (b, s.Points.Count);
            })));
        }

        // Samples of a range selector are read from storage, once per step whose window holds them; a subquery's were counted
        // when it was evaluated.
        bool fromStorage = matrix is MatrixSelector;
        foreach (var (labels, load) in inputs)
        {
            _ct.ThrowIfCancellationRequested();
            var (b, n) = load();
            if (n == 0) continue;
            // Histograms before index i, so that a window knows at once whether it holds any.
            int[]? histogramsBefore = null;
            if (b.Histograms > 0)
            {
                histogramsBefore = new int[n + 1];
                for (int i = 0; i < n; i++) histogramsBefore[i + 1] = histogramsBefore[i] + (b.H[i] is null ? 0 : 1);
            }
            var t = b.T;
            // At most one point per step whose window can reach the samples: sized once instead of grown by doubling (the
            // copies were a tenth of a range query's time over thousands of series).
            var points = new List<FPoint>(PointCapacity(t[0], t[n - 1], range + _lookback, at));
            int lo = 0, hi = 0;
            bool overlap = false;
            for (int i = 0; i < StepCount; i++)
            {
                _ct.ThrowIfCancellationRequested();
                long ts = StepTime(i);
                long end = (at ?? ts) - offset, start = end - range;
                if (at is not null) { lo = 0; hi = 0; }
                while (hi < n && t[hi] <= end) hi++;
                while (lo < hi && t[lo] <= start) lo++;
                if (anchored || smoothed)
                {
                    if (fromStorage) _processed.Value += hi - lo;
                    // The last sample at or before the start (and, smoothed, the first after the end), within the lookback delta.
                    int wlo = lo > 0 && t[lo - 1] > start - _lookback ? lo - 1 : lo;
                    int whi = smoothed && hi < n && t[hi] - end <= _lookback ? hi + 1 : hi;
                    if (whi <= wlo) continue;
                    if (histogramsBefore is not null && histogramsBefore[whi] > histogramsBefore[wlo])
                    {
                        var window = new Window(b, wlo, whi, start, end, ts, labels.Get(LabelNames.MetricName));
                        if (ExtendedHistogramFunction(name, window, range, smoothed) is { } p) points.Add(p with { T = ts });
                    }
                    else if (RangeFunctions.Extended(name, t.AsSpan(wlo, whi - wlo), b.V.AsSpan(wlo, whi - wlo), start, end, range, smoothed) is { } x)
                    {
                        points.Add(new FPoint(ts, x));
                    }
                    continue;
                }
                if (hi <= lo) continue;
                if (fromStorage) _processed.Value += hi - lo;
                if (histogramsBefore is not null && histogramsBefore[hi] > histogramsBefore[lo])
                {
                    var window = new Window(b, lo, hi, start, end, ts, labels.Get(LabelNames.MetricName));
                    if (HistogramWindowFunction(name, window, arg1?[i] ?? 0, arg2?[i] ?? 0) is { } p) points.Add(p with { T = ts });
                    continue;
                }
                var value = b.HasST && name is "rate" or "increase" or "irate" or "resets"
                    ? FloatsWithStartTimestamps(name, t.AsSpan(lo, hi - lo), b.V.AsSpan(lo, hi - lo), b.ST.AsSpan(lo, hi - lo), start, end, ref overlap)
                    : function(t.AsSpan(lo, hi - lo), b.V.AsSpan(lo, hi - lo), start, end, ts, arg1?[i] ?? 0, arg2?[i] ?? 0);
                if (value is { } f) points.Add(new FPoint(ts, f));
            }
            if (overlap || _startTimeOverlap) Warn(Annotations.StartTimeOverlap(labels.Get(LabelNames.MetricName)));
            _startTimeOverlap = false;
            output.AddSeries(keepName ? labels : DropName(labels), points);
            if (output.PointCount > _options.MaxSamples) throw PromQLException.TooManySamples();
        }
        return output.Result();
    }

    /// <summary>How many steps a range function's windows of <paramref name="reach"/> can find samples of [first, last] in.</summary>
    private int PointCapacity(long first, long last, long reach, long? at) =>
        at is not null || _interval <= 0 ? StepCount : (int)Math.Min(StepCount, (last - first + reach) / _interval + 2);

    /// <summary>rate, increase, irate and resets over a window of floats that have start timestamps (see <see cref="StartTimestamps"/>).</summary>
    private static double? FloatsWithStartTimestamps(string name, ReadOnlySpan<long> t, ReadOnlySpan<double> v, ReadOnlySpan<long> st,
        long start, long end, ref bool overlap) => name switch
    {
        "rate" => StartTimestamps.Rate(t, v, st, start, end, isRate: true, ref overlap),
        "increase" => StartTimestamps.Rate(t, v, st, start, end, isRate: false, ref overlap),
        "irate" => StartTimestamps.InstantRate(t, v, st, ref overlap),
        _ => StartTimestamps.Resets(t, v, st, ref overlap),
    };

    private static void CheckSmoothingFactors(double[] sf, double[] tf)
    {
        foreach (double s in sf)
            if (s <= 0 || s >= 1) throw new PromQLException(PromQLErrorType.Execution, $"invalid smoothing factor. Expected: 0 < sf < 1, got: {FormatValue(s)}");
        foreach (double t in tf)
            if (t <= 0 || t >= 1) throw new PromQLException(PromQLErrorType.Execution, $"invalid trend factor. Expected: 0 < tf < 1, got: {FormatValue(t)}");
    }

    /// <summary>absent(): 1 when the argument has no sample at a step, labelled from the selector's equality matchers.</summary>
    private SeriesResult EvalAbsent(Call call)
    {
        var input = (SeriesResult)Eval(call.Args[0]);
        var labels = AbsentLabels(call.Args[0]);
        var cursor = new StepCursor(input.Series);
        var vector = new List<Sample>();
        var output = new SeriesAccumulator();
        for (int i = 0; i < StepCount; i++)
        {
            _ct.ThrowIfCancellationRequested();
            cursor.At(StepTime(i), vector);
            if (vector.Count == 0) output.Add(labels, StepTime(i), 1);
        }
        return output.Result();
    }

    private SeriesResult EvalAbsentOverTime(Call call)
    {
        var matrix = Unwrap(call.Args[0]);
        // present_over_time gives a sample per step where any series has one; absent is its complement.
        // Names kept: series differing only in their name must not collide, only the times matter here.
        var present = EvalRangeFunction(new Call(Functions.TryGet("present_over_time", out var f) ? f : throw new InvalidOperationException(), [matrix]), 0, keepNames: true);
        var anyAt = new HashSet<long>(present.Series.SelectMany(s => s.Points.Select(p => p.T)));
        var vs = matrix is MatrixSelector ms ? ms.Selector : null;
        var labels = vs is null ? Labels.Empty : AbsentLabels(vs);
        var output = new SeriesAccumulator();
        for (int i = 0; i < StepCount; i++)
            if (!anyAt.Contains(StepTime(i))) output.Add(labels, StepTime(i), 1);
        return output.Result();
    }

    private static Labels AbsentLabels(Expr arg)
    {
        var e = Unwrap(arg);
        if (e is MatrixSelector m) e = m.Selector;
        if (e is not VectorSelector vs) return Labels.Empty;
        var builder = new LabelsBuilder();
        var seen = new HashSet<string>();
        var duplicate = new HashSet<string>();
        foreach (var matcher in vs.Matchers)
        {
            if (matcher.Name == LabelNames.MetricName) continue;
            if (!seen.Add(matcher.Name)) duplicate.Add(matcher.Name);
        }
        foreach (var matcher in vs.Matchers)
            if (matcher.Type == MatchType.Equal && matcher.Name != LabelNames.MetricName && !duplicate.Contains(matcher.Name))
                builder.Set(matcher.Name, matcher.Value);
        return builder.Build();
    }
}
