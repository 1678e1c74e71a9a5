using Amphora.Model;
using Amphora.PromQL.Parser;
using Amphora.Storage;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.PromQL.Engine;

/// <summary>An intermediate result over all steps of an evaluation.</summary>
internal abstract class EvalResult;

/// <summary>A scalar per step.</summary>
internal sealed class ScalarSteps(double[] values) : EvalResult
{
    public double[] Values { get; } = values;
}

internal sealed class StringResult(string value) : EvalResult
{
    public string Value { get; } = value;
}

/// <summary>Series with points at step timestamps (an instant vector per step) or raw points (a range vector).</summary>
internal sealed class SeriesResult(List<Series> series) : EvalResult
{
    public List<Series> Series { get; } = series;
}

/// <summary>
/// Evaluates an expression over the steps start, start+interval, ..., end, node by node: each node yields its result for
/// all steps, as Prometheus's evaluator does, so selectors read each series once and range functions walk one series'
/// samples at a time with a sliding window instead of loading every raw sample of the query.
/// </summary>
internal sealed partial class Evaluator
{
    private readonly EngineOptions _options;
    private readonly long _start, _end, _interval;
    private readonly long _queryStart, _queryEnd;
    /// <summary>The top-level query's step (0 for an instant query), for step() and the sort warning.</summary>
    private long _queryStep;
    private readonly CancellationToken _ct;
    private readonly long _lookback;
    private Dictionary<VectorSelector, List<ISeries>> _selected = new(ReferenceEqualityComparer.Instance);
    private Dictionary<VectorSelector, (long MinT, long MaxT)> _ranges = new(ReferenceEqualityComparer.Instance);
    private readonly List<string> _warnings;
    private readonly List<string> _infos;
    private readonly Notes _notes;
    private readonly int _steps;
    private readonly SampleTally _processed;

    public Evaluator(EngineOptions options, long start, long end, long interval, CancellationToken ct)
        : this(options, start, end, interval, start, end, ct, new List<string>(), new List<string>(), new SampleTally()) { }

    private Evaluator(EngineOptions options, long start, long end, long interval, long queryStart, long queryEnd, CancellationToken ct,
        List<string> warnings, List<string> infos, SampleTally processed)
    {
        _processed = processed;
        _options = options;
        _start = start;
        _end = end;
        _interval = interval;
        _queryStart = queryStart;
        _queryEnd = queryEnd;
        _ct = ct;
        _lookback = (long)options.LookbackDelta.TotalMilliseconds;
        _warnings = warnings;
        _infos = infos;
        _notes = new Notes(warnings, infos);
        long steps = CountSteps(start, end, interval);
        if (steps > options.MaxSamples) throw PromQLException.TooManySamples();
        _steps = (int)steps;
    }

    /// <summary>The steps start, start+interval, ..., end, counted in 64 bits (end - start may not fit in a long).</summary>
    internal static long CountSteps(long start, long end, long interval)
    {
        if (end < start) return 0;
        ulong span = unchecked((ulong)(end - start));
        ulong whole = span / (ulong)interval;
        return whole >= long.MaxValue ? long.MaxValue : (long)whole + 1;
    }

    public IReadOnlyList<string> Warnings => _warnings.Distinct().ToList();
    public IReadOnlyList<string> Infos => _infos.Distinct().ToList();

    /// <summary>
    /// Samples read from storage to evaluate the query, subqueries included (what Prometheus reports as
    /// <c>totalQueryableSamples</c> and AMP meters as query samples processed): one per series and step for an instant
    /// selector, every sample in the window of each step for a range selector.
    /// </summary>
    public long SamplesProcessed => _processed.Value;

    /// <summary>The count shared by an evaluator and the nested ones of its subqueries (evaluation is single-threaded).</summary>
    private sealed class SampleTally { public long Value; }

    /// <summary>The number of steps; never more than the sample limit (checked when the evaluator is made), so an int.</summary>
    private int StepCount => _steps;
    private long StepTime(int i) => _start + i * _interval;

    private Evaluator Nested(long start, long end, long interval) =>
        new(_options, start, end, interval, _queryStart, _queryEnd, _ct, _warnings, _infos, _processed)
        {
            _selected = _selected, _ranges = _ranges, _infoPlans = _infoPlans, _queryStep = _queryStep, _statsOnly = _statsOnly,
        };

    /// <summary>Resolves @ start()/end() and computes the time range each selector needs; returns the overall range.</summary>
    /// <remarks>Walks the tree with an explicit stack (a chain of 50,000 binary operators is as deep). Time arithmetic is
    /// checked: an offset or range that leaves the representable times is refused, never wrapped around.</remarks>
    public (long MinT, long MaxT) PrepareTimes(Expr expr)
    {
        long min = long.MaxValue, max = long.MinValue;
        var stack = new Stack<(Expr E, long From, long To)>();
        stack.Push((expr, _start, _end));
        try
        {
            while (stack.Count > 0)
            {
                var (e, from, to) = stack.Pop();
                switch (e)
                {
                    case VectorSelector vs:
                        Record(vs, from, to, _lookback, vs.Smoothed ? _lookback : 0);
                        break;
                    case MatrixSelector ms:
                        // anchored and smoothed also read the samples just outside the range, within the lookback delta.
                        bool extended = ms.Selector.Anchored || ms.Selector.Smoothed;
                        Record(ms.Selector, from, to, checked(ms.RangeMs + (extended ? _lookback : 0)), ms.Selector.Smoothed ? _lookback : 0);
                        break;
                    case SubqueryExpr sq:
                    {
                        Resolve(sq.Modifiers);
                        long a = sq.Modifiers.AtMs ?? from, b = sq.Modifiers.AtMs ?? to;
                        stack.Push((sq.Expr, checked(a - sq.Modifiers.OffsetMs - sq.RangeMs), checked(b - sq.Modifiers.OffsetMs)));
                        break;
                    }
                    case ParenExpr p: stack.Push((p.Expr, from, to)); break;
                    case UnaryExpr u: stack.Push((u.Expr, from, to)); break;
                    case BinaryExpr b: stack.Push((b.Rhs, from, to)); stack.Push((b.Lhs, from, to)); break;
                    case AggregateExpr a:
                        stack.Push((a.Expr, from, to));
                        if (a.Param is not null) stack.Push((a.Param, from, to));
                        break;
                    case Call { Function.Name: "info" } info:
                        // The data-label selector filters info series; the series read are the plan's selector's.
                        stack.Push((info.Args[0], from, to));
                        Record(InfoPlanOf(info).Selector, from, to, _lookback, 0);
                        break;
                    case Call c: foreach (var arg in c.Args) stack.Push((arg, from, to)); break;
                }
            }
        }
        catch (OverflowException)
        {
            throw new PromQLException(PromQLErrorType.BadData, "the query's offsets, @ modifiers and ranges reach outside the representable time range");
        }
        void Record(VectorSelector vs, long from, long to, long range, long after)
        {
            Resolve(vs.Modifiers);
            long a = checked((vs.Modifiers.AtMs ?? from) - vs.Modifiers.OffsetMs - range);
            long b = checked((vs.Modifiers.AtMs ?? to) - vs.Modifiers.OffsetMs + after);
            if (_ranges.TryGetValue(vs, out var old)) { a = Math.Min(a, old.MinT); b = Math.Max(b, old.MaxT); }
            _ranges[vs] = (a, b);
            min = Math.Min(min, a);
            max = Math.Max(max, b);
        }
        return min == long.MaxValue ? (_start, _end) : (min, max);
    }

    private void Resolve(TimeModifiers m)
    {
        if (m.At == AtModifier.Start) m.AtMs = _queryStart;
        else if (m.At == AtModifier.End) m.AtMs = _queryEnd;
    }

    /// <summary>Selects the series of every selector before evaluation starts.</summary>
    public async Task SelectAllAsync(IQuerier querier, Expr expr)
    {
        var selectors = PromQLEngine.Walk(expr).Select(node => (Selector: node as VectorSelector ?? (node as MatrixSelector)?.Selector, Node: node))
            .Concat(_infoPlans.Values.Select(plan => ((VectorSelector?)plan.Selector, (Expr)plan.Selector)));
        foreach (var (vs, node) in selectors)
        {
            // info()'s data-label selector has no range: it is never read itself.
            if (vs is null || _selected.ContainsKey(vs) || !_ranges.TryGetValue(vs, out var range)) continue;
            var (minT, maxT) = range;
            var hints = new SelectHints(minT, maxT, _interval, (node as MatrixSelector)?.RangeMs ?? 0);
            var set = await querier.SelectAsync(true, hints, vs.Matchers, _ct);
            var list = new List<ISeries>();
            while (set.Next())
            {
                if ((list.Count & 1023) == 1023) _ct.ThrowIfCancellationRequested();
                list.Add(set.At());
            }
            if (set.Err is { } err) throw new PromQLException(PromQLErrorType.Execution, err.Message);
            _warnings.AddRange(set.Warnings);
            _selected[vs] = list;
        }
    }

    /// <summary>Evaluates the whole query and shapes the result as the API returns it.</summary>
    public QueryValue Run(Expr expr, bool instant)
    {
        _queryStep = instant ? 0 : _interval;
        var result = Eval(expr);
        if (result is SeriesResult named) result = new SeriesResult(RemoveDroppedNames(named.Series));
        switch (result)
        {
            case ScalarSteps s when instant:
                return new ScalarValue(_start, s.Values[0]);
            case ScalarSteps s:
            {
                var points = new List<FPoint>(s.Values.Length);
                for (int i = 0; i < s.Values.Length; i++) points.Add(new FPoint(StepTime(i), s.Values[i]));
                return new MatrixValue([new Series(Labels.Empty, points)]);
            }
            case StringResult str:
                return new StringValue(_start, str.Value);
            case SeriesResult sr when instant && expr.Type == PromValueType.Matrix:
                return new MatrixValue(sr.Series.Where(s => s.Points.Count > 0).ToList());
            case SeriesResult sr when instant:
            {
                var samples = new List<Sample>(sr.Series.Count);
                foreach (var s in sr.Series)
                    if (s.Points.Count > 0) samples.Add(new Sample(s.Metric, s.Points[0].T, s.Points[0].F, s.Points[0].H));
                return new VectorValue(samples);
            }
            case SeriesResult sr:
            {
                var list = sr.Series.Where(s => s.Points.Count > 0).ToList();
                list.Sort(static (a, b) => a.Metric.CompareTo(b.Metric));
                return new MatrixValue(list);
            }
        }
        throw new PromQLException(PromQLErrorType.Internal, "unexpected result of type " + result.GetType().Name);
    }

    private EvalResult Eval(Expr expr)
    {
        _ct.ThrowIfCancellationRequested();
        // The parser bounds nesting; this is the backstop for a small stack (InsufficientExecutionStackException, a bad_data error).
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        switch (expr)
        {
            case NumberLiteral n:
                return Fill(n.Value);
            case StringLiteral s:
                return new StringResult(s.Value);
            case ParenExpr p:
                return Eval(p.Expr);
            case UnaryExpr u:
                return EvalUnary(u);
            case VectorSelector vs:
                return EvalVectorSelector(vs, timestamps: false);
            case MatrixSelector ms:
                return EvalMatrixAtInstant(ms);
            case SubqueryExpr sq:
                return EvalSubqueryAtInstant(sq);
            case BinaryExpr b:
                return EvalBinary(b);
            case AggregateExpr a:
                return EvalAggregate(a);
            case Call c:
                return EvalCall(c);
        }
        throw new PromQLException(PromQLErrorType.Internal, "unknown expression " + expr.GetType().Name);
    }

    private ScalarSteps Fill(double v)
    {
        var values = new double[StepCount];
        Array.Fill(values, v);
        return new ScalarSteps(values);
    }

    private EvalResult EvalUnary(UnaryExpr u)
    {
        var inner = Eval(u.Expr);
        if (u.Op == TokenKind.Add) return inner;
        if (inner is ScalarSteps s) return new ScalarSteps(s.Values.Select(v => -v).ToArray());
        var series = ((SeriesResult)inner).Series;
        foreach (var s2 in series)
        {
            s2.Metric = DropName(s2.Metric);
            for (int i = 0; i < s2.Points.Count; i++)
            {
                var p = s2.Points[i];
                s2.Points[i] = p.H is null ? p with { F = -p.F } : p with { H = p.H.Copy().Mul(-1) };
            }
        }
        return new SeriesResult(MergeSameLabels(series));
    }

    /// <summary>Series whose labels became equal (after dropping the name) must not overlap in time.</summary>
    private static List<Series> MergeSameLabels(List<Series> series)
    {
        var byLabels = new Dictionary<Labels, Series>();
        var result = new List<Series>(series.Count);
        foreach (var s in series)
        {
            if (byLabels.TryGetValue(s.Metric, out var existing))
            {
                var seen = new HashSet<long>(existing.Points.Select(p => p.T));
                foreach (var p in s.Points)
                    if (!seen.Add(p.T)) throw new PromQLException(PromQLErrorType.Execution, "vector cannot contain metrics with the same labelset");
                existing.Points.AddRange(s.Points);
                existing.Points.Sort(static (a, b) => a.T.CompareTo(b.T));
                continue;
            }
            byLabels[s.Metric] = s;
            result.Add(s);
        }
        return result;
    }

    /// <summary>
    /// The labels without the metric name, and without the type and unit metadata labels that go with it
    /// (<c>__type__</c>, <c>__unit__</c>, Prometheus's type-and-unit labels). As with Prometheus 3's delayed name removal,
    /// the name is not gone yet: it moves to <see cref="DroppedNameLabel"/>, where label_replace, label_join and grouping
    /// by <c>__name__</c> still see it, and goes when the result is returned (<see cref="RemoveDroppedNames"/>).
    /// </summary>
    internal static Labels DropName(Labels l)
    {
        string name = l.MetricName;
        if (name.Length == 0) return l.Has(TypeLabel) || l.Has(UnitLabel) ? l.Without(TypeLabel, UnitLabel) : l;
        // One array, the name's label put in its sorted place: a range function drops the name of each of thousands of
        // series, and a builder (a growing list, copied, then sorted) per series was a fifth of such a query's allocations.
        var labels = l.AsSpan();
        int kept = 1;
        foreach (ref readonly var x in labels)
            if (!Dropped(x.Name)) kept++;
        var result = new Label[kept];
        int k = 0;
        bool placed = false;
        foreach (ref readonly var x in labels)
        {
            if (Dropped(x.Name)) continue;
            if (!placed && string.CompareOrdinal(x.Name, DroppedNameLabel) > 0)
            {
                result[k++] = new Label(DroppedNameLabel, name);
                placed = true;
            }
            result[k++] = x;
        }
        if (!placed) result[k] = new Label(DroppedNameLabel, name);
        return Labels.FromSorted(result);

        static bool Dropped(string n) => n == LabelNames.MetricName || n == TypeLabel || n == UnitLabel || n == DroppedNameLabel;
    }

    internal const string TypeLabel = "__type__", UnitLabel = "__unit__";

    /// <summary>Where a dropped metric name waits until the result is returned (a reserved name no series can carry).</summary>
    internal const string DroppedNameLabel = "__amphora_dropped_name__";

    /// <summary>A label's value, the metric name also when it is dropped but not yet removed.</summary>
    internal static string LabelValue(Labels l, string name) =>
        name == LabelNames.MetricName && !l.Has(name) ? l.Get(DroppedNameLabel) : l.Get(name);

    /// <summary>Removes the dropped names at the end of evaluation; series that then have the same labels must not overlap.</summary>
    private static List<Series> RemoveDroppedNames(List<Series> series)
    {
        bool any = false;
        foreach (var s in series)
        {
            if (!s.Metric.Has(DroppedNameLabel)) continue;
            s.Metric = s.Metric.Without(DroppedNameLabel);
            any = true;
        }
        return any ? MergeSameLabels(series) : series;
    }

    /// <summary>An instant vector per step: for each series the newest sample in (t - lookback, t], unless it is a stale marker.</summary>
    /// <remarks>With <paramref name="timestamps"/> a point's value is its sample's time in seconds (and, with
    /// <paramref name="keepHistograms"/>, a histogram sample keeps its histogram so the caller can tell it apart); with
    /// <paramref name="startTimestamps"/> it is the sample's start timestamp in seconds as stored (0 when it has none).</remarks>
    private SeriesResult EvalVectorSelector(VectorSelector vs, bool timestamps, bool keepHistograms = false, bool startTimestamps = false)
    {
        var result = new List<Series>();
        ISampleIterator? reuse = null;
        long offset = vs.Modifiers.OffsetMs;
        long? at = vs.Modifiers.AtMs;
        int steps = StepCount;
        var stats = _statsOnly.Contains(vs) ? new StatsDecoder() : null;
        foreach (var series in _selected[vs])
        {
            stats?.Reset();
            _ct.ThrowIfCancellationRequested();
            var it = series.Iterator(reuse);
            reuse = it;
            var state = it.Next();
            bool have = false;
            long lastT = 0, lastST = 0;
            double lastV = 0;
            FloatHistogram? lastH = null;
            List<FPoint>? points = null;
            for (int i = 0; i < steps; i++)
            {
                if ((i & 4095) == 4095) _ct.ThrowIfCancellationRequested();
                long ts = StepTime(i);
                long refT = (at ?? ts) - offset;
                while (state != ValueType.None && it.AtT() <= refT)
                {
                    if (state == ValueType.Float)
                    {
                        (lastT, lastV) = it.At();
                        lastH = null;
                    }
                    else
                    {
                        (lastT, lastH) = it.AtFloatHistogram();
                        if (stats is not null) lastH = stats.Decode(lastH);
                        lastV = 0;
                    }
                    if (startTimestamps) lastST = it.AtST();
                    have = true;
                    state = it.Next();
                }
                if (vs.Smoothed && have && lastT < refT && lastT > refT - _lookback && !IsStale(lastV, lastH) &&
                    state != ValueType.None && it.AtT() - refT < _lookback)
                {
                    // smoothed: the value on the line between the samples around the evaluation time.
                    long nextT = it.AtT();
                    double nextV = 0;
                    FloatHistogram? nextH = null;
                    if (state == ValueType.Float) nextV = it.At().V;
                    else nextH = it.AtFloatHistogram().H;
                    if (!IsStale(nextV, nextH))
                    {
                        if ((lastH is null) != (nextH is null)) Warn(Annotations.MixedFloatsHistograms(series.Labels.MetricName));
                        else if (lastH is null)
                            (points ??= new List<FPoint>()).Add(new FPoint(ts, lastV + (nextV - lastV) * (refT - lastT) / (nextT - lastT)));
                        else if (InterpolateHistogram(lastH, lastT, nextH!, nextT, refT, nextH!.CounterResetHint != CounterResetHint.Gauge,
                                     series.Labels.MetricName) is { } h)
                            (points ??= new List<FPoint>()).Add(new FPoint(ts, 0, h));
                        continue;
                    }
                }
                if (have && lastT > refT - _lookback && !IsStale(lastV, lastH))
                {
                    var point = startTimestamps ? new FPoint(ts, lastST / 1000.0)
                        : timestamps ? new FPoint(ts, lastT / 1000.0, keepHistograms ? lastH : null) : new FPoint(ts, lastV, lastH);
                    (points ??= new List<FPoint>()).Add(point);
                }
            }
            if (it.Err is { } err) throw new PromQLException(PromQLErrorType.Execution, err.Message);
            if (points is null) continue;
            _processed.Value += points.Count;
            result.Add(new Series(series.Labels, points));
        }
        CheckSamples(result);
        return new SeriesResult(result);
    }

    /// <summary>A staleness marker: the special NaN as a float, or as a histogram's sum.</summary>
    internal static bool IsStale(double v, FloatHistogram? h) => h is null ? StaleNaN.Is(v) : StaleNaN.Is(h.Sum);

    private void CheckSamples(List<Series> series)
    {
        long total = 0;
        foreach (var s in series) total += s.Points.Count;
        if (total > _options.MaxSamples) throw PromQLException.TooManySamples();
    }

    /// <summary>
    /// Reads a series' samples in [minT, maxT], stale markers removed, into reusable buffers: times, float values and, for
    /// histogram samples, the histograms (null for floats). Returns the count.
    /// </summary>
    private int LoadSamples(ISeries series, long minT, long maxT, SampleBuffer b, ref ISampleIterator? reuse, bool statsOnly = false)
    {
        var stats = statsOnly ? new StatsDecoder() : null;
        var it = series.Iterator(reuse);
        reuse = it;
        int n = 0;
        b.Histograms = 0;
        b.HasST = false;
        for (var state = it.Seek(minT); state != ValueType.None; state = it.Next())
        {
            long st = it.AtT();
            if (st > maxT) break;
            if ((n & 4095) == 4095) _ct.ThrowIfCancellationRequested();
            if (st < minT) continue;
            double sv = 0;
            FloatHistogram? sh = null;
            if (state == ValueType.Float) sv = it.At().V;
            else
            {
                sh = it.AtFloatHistogram().H;
                if (stats is not null) sh = stats.Decode(sh);
            }
            if (IsStale(sv, sh)) continue;
            if (n == b.T.Length) b.Grow();
            b.T[n] = st;
            b.V[n] = sv;
            b.H[n] = sh;
            if (_options.EnableStartTimestamps) b.SetStartTimestamp(n, it.AtST());
            if (sh is not null) b.Histograms++;
            n++;
        }
        if (it.Err is { } err) throw new PromQLException(PromQLErrorType.Execution, err.Message);
        if (n > _options.MaxSamples) throw PromQLException.TooManySamples();
        return n;
    }

    /// <summary>
    /// Reusable parallel arrays of one series' samples: times, floats, histograms (null where the sample is a float) and,
    /// only for a series that has any, start timestamps (<see cref="ST"/> is valid while <see cref="HasST"/>; 0 = unknown).
    /// </summary>
    internal sealed class SampleBuffer(int capacity)
    {
        public long[] T = new long[capacity];
        public double[] V = new double[capacity];
        public FloatHistogram?[] H = new FloatHistogram?[capacity];
        public long[]? ST;
        /// <summary>Whether the loaded samples have start timestamps in <see cref="ST"/> (set by the first one that is not 0).</summary>
        public bool HasST;
        /// <summary>How many of the loaded samples are histograms.</summary>
        public int Histograms;

        /// <summary>Records sample <paramref name="n"/>'s start timestamp; the array is made (or cleared) at the first known one.</summary>
        public void SetStartTimestamp(int n, long st)
        {
            if (!HasST)
            {
                if (st == 0) return;
                if (ST is null || ST.Length < T.Length) ST = new long[T.Length];
                else Array.Clear(ST, 0, n);
                HasST = true;
            }
            ST![n] = st;
        }

        public void Grow()
        {
            Array.Resize(ref T, T.Length * 2);
            Array.Resize(ref V, V.Length * 2);
            Array.Resize(ref H, H.Length * 2);
            if (ST is not null) Array.Resize(ref ST, T.Length);
        }
    }

    /// <summary>A range selector in an instant query: the raw samples in (t - range, t].</summary>
    private SeriesResult EvalMatrixAtInstant(MatrixSelector ms)
    {
        var vs = ms.Selector;
        long refT = (vs.Modifiers.AtMs ?? _start) - vs.Modifiers.OffsetMs;
        var result = new List<Series>();
        var buffer = new SampleBuffer(64);
        ISampleIterator? reuse = null;
        foreach (var series in _selected[vs])
        {
            _ct.ThrowIfCancellationRequested();
            int n = LoadSamples(series, refT - ms.RangeMs + 1, refT, buffer, ref reuse, _statsOnly.Contains(vs));
            if (n == 0) continue;
            _processed.Value += n;
            var points = new List<FPoint>(n);
            for (int i = 0; i < n; i++) points.Add(new FPoint(buffer.T[i], buffer.V[i], buffer.H[i]));
            result.Add(new Series(series.Labels, points));
        }
        CheckSamples(result);
        return new SeriesResult(result);
    }

    /// <summary>Evaluates a subquery's inner expression over its own steps; the points are the subquery's samples.</summary>
    private SeriesResult EvalSubquery(SubqueryExpr sq, out long rangeEndShift)
    {
        long step = sq.StepMs > 0 ? sq.StepMs : (long)_options.DefaultEvaluationInterval.TotalMilliseconds;
        long offset = sq.Modifiers.OffsetMs;
        long from = (sq.Modifiers.AtMs ?? _start) - offset - sq.RangeMs;
        long to = (sq.Modifiers.AtMs ?? _end) - offset;
        // Steps are aligned to multiples of the step (absolute time), starting after the left-open range start.
        long first = from - Mod(from, step);
        if (first <= from) first += step;
        rangeEndShift = offset;
        if (first > to) return new SeriesResult([]);
        long steps = CountSteps(first, to, step);
        if (steps > _options.MaxSamples)
            throw new PromQLException(PromQLErrorType.Execution,
                $"subquery {sq} would be evaluated at {steps} steps, more than the query's sample limit of {_options.MaxSamples} " +
                "(--query.max-samples): use a larger subquery step or a shorter range");
        var nested = Nested(first, to, step);
        var inner = nested.Eval(sq.Expr);
        if (inner is ScalarSteps s)
        {
            var points = new List<FPoint>(s.Values.Length);
            for (int i = 0; i < s.Values.Length; i++) points.Add(new FPoint(first + i * step, s.Values[i]));
            return new SeriesResult([new Series(Labels.Empty, points)]);
        }
        return (SeriesResult)inner;
    }

    private static long Mod(long a, long b) => ((a % b) + b) % b;

    private SeriesResult EvalSubqueryAtInstant(SubqueryExpr sq)
    {
        var all = EvalSubquery(sq, out _);
        long refT = (sq.Modifiers.AtMs ?? _start) - sq.Modifiers.OffsetMs;
        var result = new List<Series>();
        foreach (var s in all.Series)
        {
            var points = s.Points.Where(p => p.T > refT - sq.RangeMs && p.T <= refT).ToList();
            if (points.Count > 0) result.Add(new Series(s.Metric, points));
        }
        return new SeriesResult(result);
    }
}
