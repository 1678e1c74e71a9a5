namespace Amphora.PromQL.Engine;

/// <summary>
/// Start timestamps (ST) in the counter functions, as Prometheus 3 uses them behind <c>--enable-feature=use-start-timestamps</c>
/// (<see cref="EngineOptions.EnableStartTimestamps"/>). A sample's ST says since when its value has been counting: OTel
/// deltas point at the previous sample (ST = T<sub>prev</sub>), cumulative series keep one ST until they restart, and
/// GCP-style deltas start just after the previous sample. rate, increase, irate and resets then see a counter reset that the
/// values alone do not show (a delta series, or a counter that restarted and climbed past its old value), and rate and
/// increase count from zero at the first sample's ST when that lies inside the window instead of extrapolating to the left.
/// Only a range selector's samples carry STs: a subquery's points, like any computed value, have none.
/// </summary>
internal static class StartTimestamps
{
    /// <summary>
    /// The ST the functions work with: 0 (unknown) when none is stored, and also when it is at or after the sample's own
    /// time, since ST = T is OTel's way of saying "unknown start" and a later one is invalid.
    /// </summary>
    public static long Effective(long st, long t) => st != 0 && st < t ? st : 0;

    /// <summary>
    /// Whether the current sample's (effective) ST says the counter restarted after the previous sample: an ST after the
    /// previous sample starts a new sequence (or is the next GCP delta); one before it continues a cumulative sequence; one
    /// equal to it is the next OTel delta, unless the previous sample's start was unknown (the second sample of a
    /// cumulative series whose start is unknown). An unknown ST says nothing; the values decide.
    /// </summary>
    public static bool IsReset(long prevT, long prevST, long st)
    {
        if (st == 0) return false;
        if (st != prevT) return st > prevT;
        return prevST != 0;
    }

    /// <summary>An ST that reaches back before the previous sample without continuing its sequence: two sequences overlap.</summary>
    public static bool Overlaps(long prevT, long prevST, long st) => st != 0 && st < prevT && st != prevST;

    /// <summary>
    /// Whether the STs of samples <paramref name="i"/> - 1 and <paramref name="i"/> show a counter reset between them; sets
    /// <paramref name="overlap"/> when they overlap (the caller warns once per series).
    /// </summary>
    public static bool ResetAt(ReadOnlySpan<long> t, ReadOnlySpan<long> st, int i, ref bool overlap)
    {
        long prevST = Effective(st[i - 1], t[i - 1]), cur = Effective(st[i], t[i]);
        if (Overlaps(t[i - 1], prevST, cur)) overlap = true;
        return IsReset(t[i - 1], prevST, cur);
    }

    /// <summary>
    /// rate and increase of floats with STs: resets seen in the values or the STs add the value before them back, and when
    /// the first sample's ST is inside the window the counter counts from zero there (no extrapolation to the left, and one
    /// sample is enough). Null when there is no result.
    /// </summary>
    public static double? Rate(ReadOnlySpan<long> t, ReadOnlySpan<double> v, ReadOnlySpan<long> st, long rangeStart, long rangeEnd, bool isRate,
        ref bool overlap)
    {
        if (t.Length == 0) return null;
        long zeroAt = ZeroPoint(t[0], st[0], rangeStart);
        if (t.Length < 2 && zeroAt == 0) return null;
        double result = v[^1] - v[0];
        for (int i = 1; i < v.Length; i++)
            if (ResetAt(t, st, i, ref overlap) || v[i] < v[i - 1]) result += v[i - 1];
        if (zeroAt != 0) result += v[0];
        return result * RangeFunctions.ExtrapolationFactor(t[0], t[^1], t.Length, rangeStart, rangeEnd, isCounter: true, isRate, v[0], result, zeroAt);
    }

    /// <summary>irate of floats with STs: a reset the STs show counts the last value from zero, as a falling value does.</summary>
    public static double? InstantRate(ReadOnlySpan<long> t, ReadOnlySpan<double> v, ReadOnlySpan<long> st, ref bool overlap)
    {
        if (t.Length < 2) return null;
        int last = t.Length - 1;
        bool reset = ResetAt(t, st, last, ref overlap);
        return RangeFunctions.InstantDelta(t[^2..], v[^2..], isRate: true, reset);
    }

    /// <summary>resets of floats with STs: pairs whose values fall or whose STs restart the counter.</summary>
    public static double Resets(ReadOnlySpan<long> t, ReadOnlySpan<double> v, ReadOnlySpan<long> st, ref bool overlap)
    {
        int n = 0;
        for (int i = 1; i < v.Length; i++)
            if (ResetAt(t, st, i, ref overlap) | v[i] < v[i - 1]) n++;
        return n;
    }

    /// <summary>The first sample's effective ST when it lies inside the window (rangeStart, T], where the count was zero; else 0.</summary>
    public static long ZeroPoint(long firstT, long firstST, long rangeStart)
    {
        long st = Effective(firstST, firstT);
        return st > rangeStart ? st : 0;
    }
}
