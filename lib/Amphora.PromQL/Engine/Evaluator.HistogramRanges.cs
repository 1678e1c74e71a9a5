using Amphora.Model;

namespace Amphora.PromQL.Engine;

internal sealed partial class Evaluator
{
    /// <summary>One step's window over a series' loaded samples [Lo, Hi) that holds at least one histogram.</summary>
    private readonly record struct Window(SampleBuffer B, int Lo, int Hi, long Start, long End, long Ts, string Metric)
    {
        public int Count => Hi - Lo;
        public long T(int i) => B.T[Lo + i];
        public FloatHistogram? H(int i) => B.H[Lo + i];
        public double F(int i) => B.V[Lo + i];
        /// <summary>Whether the samples have start timestamps (only a range selector's do, with the feature on).</summary>
        public bool HasST => B.HasST;

        /// <summary>Whether the start timestamps of samples i - 1 and i show a counter reset (false without them).</summary>
        public bool StartTimestampReset(int i, ref bool overlap) =>
            B.HasST && StartTimestamps.ResetAt(B.T.AsSpan(Lo, Count), B.ST.AsSpan(Lo, Count), i, ref overlap);

        /// <summary>The first sample's start timestamp when it is inside the window (the count was zero there), else 0.</summary>
        public long ZeroPoint => B.HasST ? StartTimestamps.ZeroPoint(B.T[Lo], B.ST![Lo], Start) : 0;

        public int Histograms
        {
            get
            {
                int n = 0;
                for (int i = Lo; i < Hi; i++) if (B.H[i] is not null) n++;
                return n;
            }
        }
    }

    private void Warn(string text) => _warnings.Add(text);

    /// <summary>Set by the histogram counter functions when a series' start timestamps overlap; the range function warns once per series.</summary>
    private bool _startTimeOverlap;
    private void Inform(string text) => _infos.Add(text);

    /// <summary>
    /// A range function over a window holding histograms (perhaps with floats), as Prometheus defines each: the rate family
    /// and sum/avg over histograms, functions that take the samples as they are, and float functions over the floats only
    /// (with an info when histograms were left out). Null when there is no result.
    /// </summary>
    private FPoint? HistogramWindowFunction(string name, Window w, double arg1, double arg2)
    {
        switch (name)
        {
            case "rate": return HistogramRate(w, isCounter: true, isRate: true);
            case "increase": return HistogramRate(w, isCounter: true, isRate: false);
            case "delta": return HistogramRate(w, isCounter: false, isRate: false);
            case "irate": return InstantHistogramDelta(w, isRate: true);
            case "idelta": return InstantHistogramDelta(w, isRate: false);
            case "resets": return new FPoint(0, Transitions(w, changes: false, ref _startTimeOverlap));
            case "changes": return new FPoint(0, Transitions(w, changes: true, ref _startTimeOverlap));
            case "count_over_time": return new FPoint(0, w.Count);
            case "present_over_time": return new FPoint(0, 1);
            case "last_over_time": return Sample(w, w.Count - 1);
            case "first_over_time": return Sample(w, 0);
            case "ts_of_last_over_time": return new FPoint(0, w.T(w.Count - 1) / 1000.0);
            case "ts_of_first_over_time": return new FPoint(0, w.T(0) / 1000.0);
            case "sum_over_time": return HistogramSumOverTime(w, average: false);
            case "avg_over_time": return HistogramSumOverTime(w, average: true);
        }
        // The rest work on floats only.
        var floatT = new List<long>();
        var floatV = new List<double>();
        for (int i = 0; i < w.Count; i++)
        {
            if (w.H(i) is not null) continue;
            floatT.Add(w.T(i));
            floatV.Add(w.F(i));
        }
        bool needsTwo = name is "deriv" or "predict_linear" or "double_exponential_smoothing";
        if (floatT.Count == 0 || (needsTwo && floatT.Count < 2))
        {
            if (needsTwo && floatT.Count == 1) Inform(Annotations.HistogramIgnoredInMixedRange(w.Metric));
            return null;
        }
        Inform(Annotations.HistogramIgnoredInMixedRange(w.Metric));
        var function = RangeFunctions.Get(name)!;
        var value = function(floatT.ToArray(), floatV.ToArray(), w.Start, w.End, w.Ts, arg1, arg2);
        return value is { } f ? new FPoint(0, f) : null;
    }

    private static FPoint Sample(Window w, int i) => w.H(i) is { } h ? new FPoint(0, 0, h.Copy()) : new FPoint(0, w.F(i));

    /// <summary>
    /// rate, increase and delta of histograms: the last minus the first (at the coarsest schema seen), counter resets
    /// added back for counters, extrapolated like floats using the observation count.
    /// </summary>
    private FPoint? HistogramRate(Window w, bool isCounter, bool isRate)
    {
        int histograms = w.Histograms;
        if (histograms != w.Count)
        {
            Warn(Annotations.MixedFloatsHistograms(w.Metric));
            return null;
        }
        // With start timestamps a counter may count from zero at the first sample's start, inside the window.
        long zeroAt = isCounter ? w.ZeroPoint : 0;
        if (w.Count < 2 && zeroAt == 0) return null;
        var first = w.H(0)!;
        var last = w.H(w.Count - 1)!;
        var prev = first;
        bool custom = prev.UsesCustomBuckets;
        if (isCounter && (prev.CounterResetHint == CounterResetHint.Gauge || last.CounterResetHint == CounterResetHint.Gauge))
            Warn(Annotations.NotCounter(w.Metric));
        // Resets are added back from the sample after resetsFrom - 1; the subtrahend prev is the first sample or empty.
        int resetsFrom = 1;
        if (zeroAt != 0)
        {
            prev = new FloatHistogram { Schema = first.Schema, CustomValues = first.CustomValues };
        }
        else if (isCounter && (w.H(1)!.DetectReset(prev) || w.StartTimestampReset(1, ref _startTimeOverlap)))
        {
            // A reset right after the first sample: its layout does not matter, it counts as empty.
            var second = w.H(1)!;
            prev = new FloatHistogram { Schema = second.Schema, CustomValues = second.CustomValues };
            custom = second.UsesCustomBuckets;
            resetsFrom = 2;
        }
        if (last.UsesCustomBuckets != custom)
        {
            Warn(Annotations.MixedExponentialCustom(w.Metric));
            return null;
        }
        int minSchema = Math.Min(last.Schema, prev.Schema);
        for (int i = 1; i < w.Count - 1; i++)
        {
            if (!isCounter) continue;
            var curr = w.H(i)!;
            if (curr.CounterResetHint == CounterResetHint.Gauge) Warn(Annotations.NotCounter(w.Metric));
            minSchema = Math.Min(minSchema, curr.Schema);
            if (curr.UsesCustomBuckets != custom)
            {
                Warn(Annotations.MixedExponentialCustom(w.Metric));
                return null;
            }
        }
        var h = last.CopyToSchema(minSchema);
        var merged = h.Sub(prev);
        if (merged.HasFlag(HistogramMerge.IncompatibleSchema))
        {
            Warn(Annotations.MixedExponentialCustom(w.Metric));
            return null;
        }
        if (merged.HasFlag(HistogramMerge.CustomBoundsReconciled)) Inform(Annotations.MismatchedCustomBuckets("subtraction"));
        if (isCounter)
        {
            if (resetsFrom == 2 || zeroAt != 0) prev = w.H(resetsFrom - 1)!;
            for (int i = resetsFrom; i < w.Count; i++)
            {
                var curr = w.H(i)!;
                if (w.StartTimestampReset(i, ref _startTimeOverlap) | curr.DetectReset(prev))
                {
                    merged = h.Add(prev);
                    if (merged.HasFlag(HistogramMerge.IncompatibleSchema))
                    {
                        Warn(Annotations.MixedExponentialCustom(w.Metric));
                        return null;
                    }
                    if (merged.HasFlag(HistogramMerge.CustomBoundsReconciled)) Inform(Annotations.MismatchedCustomBuckets("addition"));
                }
                prev = curr;
            }
        }
        else if (first.CounterResetHint != CounterResetHint.Gauge || last.CounterResetHint != CounterResetHint.Gauge)
        {
            Warn(Annotations.NotGauge(w.Metric));
        }
        h.Compact(0);
        double factor = RangeFunctions.ExtrapolationFactor(w.T(0), w.T(w.Count - 1), w.Count, w.Start, w.End, isCounter, isRate, first.Count, h.Count, zeroAt);
        h.Mul(factor);
        h.CounterResetHint = CounterResetHint.Gauge;
        return new FPoint(0, 0, h);
    }

    /// <summary>irate and idelta over the last two samples, which must both be floats or both histograms.</summary>
    private FPoint? InstantHistogramDelta(Window w, bool isRate)
    {
        if (w.Count < 2) return null;
        int a = w.Count - 2, b = w.Count - 1;
        var (h0, h1) = (w.H(a), w.H(b));
        if (h0 is null && h1 is null)
        {
            bool reset = isRate && w.StartTimestampReset(b, ref _startTimeOverlap);
            var value = RangeFunctions.InstantDelta([w.T(a), w.T(b)], [w.F(a), w.F(b)], isRate, reset);
            return value is { } f ? new FPoint(0, f) : null;
        }
        if (h0 is null || h1 is null)
        {
            Warn(Annotations.MixedFloatsHistograms(w.Metric));
            return null;
        }
        long interval = w.T(b) - w.T(a);
        if (interval == 0) return null;
        var result = h1.Copy();
        if (isRate && (h1.CounterResetHint == CounterResetHint.Gauge || h0.CounterResetHint == CounterResetHint.Gauge))
            Warn(Annotations.NotCounter(w.Metric));
        if (!isRate && (h1.CounterResetHint != CounterResetHint.Gauge || h0.CounterResetHint != CounterResetHint.Gauge))
            Warn(Annotations.NotGauge(w.Metric));
        if (!isRate || !(w.StartTimestampReset(b, ref _startTimeOverlap) | h1.DetectReset(h0)))
        {
            var merged = result.Sub(h0);
            if (merged.HasFlag(HistogramMerge.IncompatibleSchema))
            {
                Warn(Annotations.MixedExponentialCustom(w.Metric));
                return null;
            }
            if (merged.HasFlag(HistogramMerge.CustomBoundsReconciled)) Inform(Annotations.MismatchedCustomBuckets("subtraction"));
        }
        result.CounterResetHint = CounterResetHint.Gauge;
        result.Compact(0);
        if (isRate) result.Div(interval / 1000.0);
        return new FPoint(0, 0, result);
    }

    /// <summary>
    /// resets or changes over a window of floats and histograms; a switch between the two kinds counts as one, and for resets
    /// so does a restart that the start timestamps show (not for the anchored modifier, whose edges Prometheus does not yet
    /// combine with start timestamps).
    /// </summary>
    private static double Transitions(Window w, bool changes, ref bool overlap, bool startTimestamps = true)
    {
        int n = 0;
        for (int i = 1; i < w.Count; i++)
        {
            if (!changes && startTimestamps && w.StartTimestampReset(i, ref overlap))
            {
                n++;
                continue;
            }
            var (ph, ch) = (w.H(i - 1), w.H(i));
            if (ph is null && ch is null)
            {
                double p = w.F(i - 1), c = w.F(i);
                if (changes ? c != p && !(double.IsNaN(c) && double.IsNaN(p)) : c < p) n++;
            }
            else if (ph is null || ch is null) n++;
            else if (changes ? !ch.IdenticalTo(ph) : ch.DetectReset(ph)) n++;
        }
        return n;
    }

    /// <summary>sum_over_time and avg_over_time of histograms (the average as an incremental mean).</summary>
    private FPoint? HistogramSumOverTime(Window w, bool average)
    {
        if (w.Histograms != w.Count)
        {
            Warn(Annotations.MixedFloatsHistograms(w.Metric));
            return null;
        }
        var group = new HistogramGroup();
        for (int i = 0; i < w.Count; i++) group.Add(w.H(i)!, average, w.Metric, _notes);
        return group.Result(_notes, average) is { } h ? new FPoint(0, 0, h) : null;
    }

    /// <summary>Whether histograms saying "reset" and histograms saying "not reset" were both seen.</summary>
    private struct HintTracker
    {
        private bool _reset, _notReset;

        public void See(FloatHistogram h)
        {
            if (h.CounterResetHint == CounterResetHint.CounterReset) _reset = true;
            else if (h.CounterResetHint == CounterResetHint.NotCounterReset) _notReset = true;
        }

        public readonly bool Conflict => _reset && _notReset;
    }
}
