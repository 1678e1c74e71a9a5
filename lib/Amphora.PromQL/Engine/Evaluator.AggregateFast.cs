using System.Runtime.InteropServices;
using Amphora.Model;
using Amphora.PromQL.Parser;

namespace Amphora.PromQL.Engine;

internal sealed partial class Evaluator
{
    /// <summary>
    /// sum, avg, count, min, max, group, stddev and stdvar: each input series' group is computed once, then every step
    /// folds the present samples into per-group accumulators (a tile of steps at a time); no per-step dictionaries or label sets.
    /// </summary>
    private SeriesResult AggregateByGroups(AggregateExpr a, SeriesResult input)
    {
        var series = input.Series;
        var groupOf = new int[series.Count];
        var keys = new List<Labels>();
        var index = new Dictionary<Labels, int>();
        var dropped = GroupsWithDroppedNames(series, a);
        for (int i = 0; i < series.Count; i++)
        {
            var key = OutputKey(GroupingKey(series[i].Metric, a), dropped);
            if (!index.TryGetValue(key, out int g))
            {
                g = keys.Count;
                index[key] = g;
                keys.Add(key);
            }
            groupOf[i] = g;
        }
        int groups = keys.Count;
        // Steps are folded a tile at a time: for each series in input order, its points of the tile's steps (next to each
        // other in memory) into the tile's per-group accumulators. Step by step over every series touched one cache line
        // (and mostly one page) of each series' points per step, which over thousands of series cost more than the sums.
        // Every (group, step) still receives its samples in input order, so the results are the same to the bit. With
        // histograms the tile is one step, so that their notes come in the order they always did.
        int tile = HasHistograms(series) ? 1 : Math.Clamp(TileGroupSteps / Math.Max(1, groups), 1, MaxTileSteps);
        var state = new GroupState[groups * tile];
        // sum and avg of histograms, per group; a group that also saw floats has no result.
        var histograms = a.Op is TokenKind.Sum or TokenKind.Avg ? new HistogramGroup?[groups * tile] : null;
        bool ignoresHistograms = a.Op is TokenKind.Min or TokenKind.Max or TokenKind.Stddev or TokenKind.Stdvar;
        var stamp = new int[groups * tile];
        Array.Fill(stamp, -1);
        var touched = new List<int>[tile];
        for (int k = 0; k < tile; k++) touched[k] = new List<int>();
        var pos = new int[series.Count];
        var output = new SeriesAccumulator();
        for (int first = 0; first < StepCount; first += tile)
        {
            _ct.ThrowIfCancellationRequested();
            int width = Math.Min(tile, StepCount - first);
            long lastTs = StepTime(first + width - 1);
            for (int k = 0; k < width; k++) touched[k].Clear();
            for (int i = 0; i < series.Count; i++)
            {
                if ((i & 4095) == 4095) _ct.ThrowIfCancellationRequested();
                var points = CollectionsMarshal.AsSpan(series[i].Points);
                int p = pos[i];
                int g = groupOf[i];
                for (int k = 0; k < width && p < points.Length && points[p].T <= lastTs; k++)
                {
                    long ts = StepTime(first + k);
                    while (p < points.Length && points[p].T < ts) p++;
                    if (p >= points.Length || points[p].T != ts) continue;
                    var h = points[p].H;
                    if (h is not null && ignoresHistograms)
                    {
                        _notes.Info(Annotations.HistogramIgnoredInAggregation(Tokens.Text(a.Op)));
                        continue;
                    }
                    int slot = g * tile + k;
                    if (stamp[slot] != first + k)
                    {
                        stamp[slot] = first + k;
                        state[slot] = default;
                        if (histograms is not null) histograms[slot] = null;
                        touched[k].Add(g);
                    }
                    if (h is null) state[slot].Add(points[p].F);
                    else if (histograms is not null)
                        (histograms[slot] ??= new HistogramGroup()).Add(h, a.Op == TokenKind.Avg, series[i].Metric.Get(LabelNames.MetricName), _notes);
                    else state[slot].Add(0); // count and group only count it
                }
                pos[i] = p;
            }
            for (int k = 0; k < width; k++)
            {
                long ts = StepTime(first + k);
                foreach (int g in touched[k])
                {
                    int slot = g * tile + k;
                    if (histograms?[slot] is { } hg)
                    {
                        if (state[slot].HasValues) _notes.Warn(Annotations.MixedFloatsHistogramsInAggregation());
                        else if (hg.Result(_notes, a.Op == TokenKind.Avg) is { } sum) output.Add(keys[g], ts, 0, sum);
                        continue;
                    }
                    output.Add(keys[g], ts, state[slot].Result(a.Op));
                }
            }
        }
        return output.Result();
    }

    /// <summary>Group × step accumulators of one tile: about 400 KB, well inside a core's L2 cache.</summary>
    private const int TileGroupSteps = 4096;
    private const int MaxTileSteps = 64;

    private static bool HasHistograms(List<Series> series)
    {
        foreach (var s in series)
            foreach (ref readonly var p in CollectionsMarshal.AsSpan(s.Points))
                if (p.H is not null) return true;
        return false;
    }

    /// <summary>
    /// The sum or mean of histograms: one group's at one step, or one window's (sum/avg_over_time). Sums are compensated
    /// (Kahan); the mean divides the sum, and switches to an incremental mean once the sum would overflow.
    /// </summary>
    private sealed class HistogramGroup
    {
        private FloatHistogram? _acc, _comp;
        private int _count;
        private bool _incompatible, _reconciled, _incremental;
        private HintTracker _hints;

        public void Add(FloatHistogram h, bool average, string metric, Notes notes)
        {
            if (_incompatible) return;
            _hints.See(h);
            _count++;
            if (_acc is null)
            {
                _acc = h.Copy();
                _comp = new FloatHistogram { Schema = h.Schema, ZeroThreshold = h.ZeroThreshold, CustomValues = h.CustomValues };
                return;
            }
            HistogramMerge merged;
            if (average && _incremental)
            {
                merged = IncrementalStep(h);
            }
            else
            {
                var (accBefore, compBefore) = average ? (_acc.Copy(), _comp!.Copy()) : (null, null);
                merged = _acc.KahanAdd(h, _comp!);
                if (average && !merged.HasFlag(HistogramMerge.IncompatibleSchema) && HasInfinity(_acc) && !HasInfinity(h) && !HasInfinity(accBefore!))
                {
                    // The sum overflowed: continue with the mean so far, updated incrementally.
                    _incremental = true;
                    _acc = accBefore!.Div(_count - 1);
                    _comp = compBefore!.Div(_count - 1);
                    merged = IncrementalStep(h);
                }
            }
            if (merged.HasFlag(HistogramMerge.IncompatibleSchema))
            {
                notes.Warn(Annotations.MixedExponentialCustom(metric));
                _incompatible = true;
                return;
            }
            _reconciled |= merged.HasFlag(HistogramMerge.CustomBoundsReconciled);
        }

        /// <summary>mean = mean·(n-1)/n + h/n, compensated.</summary>
        private HistogramMerge IncrementalStep(FloatHistogram h)
        {
            double q = (_count - 1) / (double)_count;
            _acc!.Mul(q);
            _comp!.Mul(q);
            return _acc.KahanAdd(h.Copy().Div(_count), _comp);
        }

        private static bool HasInfinity(FloatHistogram h) =>
            double.IsInfinity(h.Count) || double.IsInfinity(h.Sum) || double.IsInfinity(h.ZeroCount) ||
            h.PositiveBuckets.Any(double.IsInfinity) || h.NegativeBuckets.Any(double.IsInfinity);

        /// <summary>The result (the mean when <paramref name="average"/>), null when the histograms did not fit together; notes collisions and reconciled bounds.</summary>
        public FloatHistogram? Result(Notes notes, bool average)
        {
            if (_incompatible) return null;
            if (_hints.Conflict) notes.Warn(Annotations.CounterResetCollision("aggregation"));
            if (_reconciled) notes.Info(Annotations.MismatchedCustomBuckets("aggregation"));
            var h = _acc!.WithCompensation(_comp!);
            if (average && !_incremental && _count > 1) h.Div(_count);
            return h.Compact(0);
        }
    }

    /// <summary>One group's running aggregate at one step (Kahan sums, incremental mean on overflow, Welford variance).</summary>
    private struct GroupState
    {
        private long _count;
        private double _sum, _c, _avgSum, _avgC, _mean, _min, _max, _vMean, _vMeanC, _aux, _auxC;
        private bool _incremental;

        /// <summary>Whether any sample was added.</summary>
        public readonly bool HasValues => _count > 0;

        public void Add(double f)
        {
            _count++;
            if (_count == 1)
            {
                _min = f;
                _max = f;
            }
            else
            {
                if (_max < f || double.IsNaN(_max)) _max = f;
                if (_min > f || double.IsNaN(_min)) _min = f;
            }
            (_sum, _c) = KahanSumInc(f, _sum, _c);
            if (!_incremental)
            {
                var (newSum, newC) = KahanSumInc(f, _avgSum, _avgC);
                if (!double.IsInfinity(newSum) || _count == 1)
                {
                    (_avgSum, _avgC) = (newSum, newC);
                }
                else
                {
                    // The sum overflowed: continue with an incremental mean, as Prometheus does.
                    _incremental = true;
                    _mean = _avgSum / (_count - 1);
                    _avgC /= _count - 1;
                }
            }
            if (_incremental)
            {
                bool skip = double.IsInfinity(_mean) && ((double.IsInfinity(f) && (_mean > 0) == (f > 0)) || (!double.IsInfinity(f) && !double.IsNaN(f)));
                if (!skip)
                {
                    double q = (double)(_count - 1) / _count;
                    (_mean, _avgC) = KahanSumInc(f / _count, q * _mean, q * _avgC);
                }
            }
            double delta = f - (_vMean + _vMeanC);
            (_vMean, _vMeanC) = KahanSumInc(delta / _count, _vMean, _vMeanC);
            (_aux, _auxC) = KahanSumInc(delta * (f - (_vMean + _vMeanC)), _aux, _auxC);
        }

        public readonly double Result(TokenKind op) => op switch
        {
            TokenKind.Sum => double.IsInfinity(_sum) ? _sum : _sum + _c,
            TokenKind.Avg => _incremental ? _mean + _avgC : _count == 1 ? _avgSum : (_avgSum + _avgC) / _count,
            TokenKind.Count => _count,
            TokenKind.Group => 1,
            TokenKind.Min => _min,
            TokenKind.Max => _max,
            TokenKind.Stdvar => (_aux + _auxC) / _count,
            TokenKind.Stddev => Math.Sqrt((_aux + _auxC) / _count),
            _ => throw new PromQLException(PromQLErrorType.Internal, "not a grouped aggregation: " + op),
        };
    }
}
