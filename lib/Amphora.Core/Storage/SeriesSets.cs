using Amphora.Model;

namespace Amphora.Storage;

/// <summary>The series set with no series. Use it instead of null.</summary>
public sealed class EmptySeriesSet : ISeriesSet
{
    public static readonly EmptySeriesSet Instance = new();
    private EmptySeriesSet() { }
    public bool Next() => false;
    public ISeries At() => throw new InvalidOperationException("empty series set");
    public Exception? Err => null;
    public IReadOnlyList<string> Warnings => [];
}

/// <summary>A series set that failed: no series, and <see cref="Err"/> says why.</summary>
public sealed class ErrorSeriesSet(Exception error) : ISeriesSet
{
    public bool Next() => false;
    public ISeries At() => throw new InvalidOperationException("error series set");
    public Exception? Err { get; } = error;
    public IReadOnlyList<string> Warnings => [];
}

/// <summary>A series set over a list the caller built. The list is owned by the set.</summary>
public sealed class ListSeriesSet(IReadOnlyList<ISeries> series, IReadOnlyList<string>? warnings = null) : ISeriesSet
{
    private int _index = -1;
    public bool Next() => ++_index < series.Count;
    public ISeries At() => series[_index];
    public Exception? Err => null;
    public IReadOnlyList<string> Warnings { get; } = warnings ?? [];
}

/// <summary>A series whose samples are two parallel arrays sorted by time. The arrays are owned by the series.</summary>
public sealed class ArraySeries(Labels labels, long[] timestamps, double[] values, int count) : ISeries
{
    public ArraySeries(Labels labels, long[] timestamps, double[] values) : this(labels, timestamps, values, timestamps.Length) { }

    public Labels Labels { get; } = labels;
    public int Count => count;

    public ISampleIterator Iterator(ISampleIterator? reuse = null)
    {
        if (reuse is ArraySampleIterator it)
        {
            it.Reset(timestamps, values, count);
            return it;
        }
        return new ArraySampleIterator(timestamps, values, count);
    }
}

/// <summary>Iterates two parallel arrays. Reusable via <see cref="Reset"/>.</summary>
public sealed class ArraySampleIterator : ISampleIterator
{
    private long[] _t;
    private double[] _v;
    private int _n;
    private int _i = -1;

    public ArraySampleIterator(long[] t, double[] v, int n) { _t = t; _v = v; _n = n; }

    public void Reset(long[] t, double[] v, int n) { _t = t; _v = v; _n = n; _i = -1; }

    public ValueType Next() => ++_i < _n ? ValueType.Float : Done();

    public ValueType Seek(long t)
    {
        if (_i < 0) _i = 0;
        if (_i >= _n) return ValueType.None;
        if (_t[_i] >= t) return ValueType.Float;
        int lo = _i, hi = _n;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_t[mid] < t) lo = mid + 1; else hi = mid;
        }
        _i = lo;
        return _i < _n ? ValueType.Float : ValueType.None;
    }

    private ValueType Done() { _i = _n; return ValueType.None; }
    public (long T, double V) At() => (_t[_i], _v[_i]);
    public long AtT() => _t[_i];
    public Exception? Err => null;
}
