using Amphora.Model;

namespace Amphora.Storage;

/// <summary>
/// The samples of <paramref name="inner"/> in [<paramref name="minT"/>, <paramref name="maxT"/>]: the first Next seeks to
/// minT, a Seek never goes below it, and a sample past maxT ends the iteration. Used where storage holds more than a reader
/// may see: data past a workspace's retention, or whole chunks streamed for a narrower query range.
/// </summary>
public sealed class RangeSampleIterator(ISampleIterator inner, long minT, long maxT = long.MaxValue) : ISampleIterator
{
    private bool _started, _ended;

    public ValueType Next()
    {
        if (_ended) return ValueType.None;
        if (!_started) return Seek(minT);
        return Bound(inner.Next());
    }

    public ValueType Seek(long t)
    {
        if (_ended) return ValueType.None;
        _started = true;
        return Bound(inner.Seek(Math.Max(t, minT)));
    }

    private ValueType Bound(ValueType state)
    {
        if (state == ValueType.None || inner.AtT() <= maxT) return state;
        _ended = true;
        return ValueType.None;
    }

    public (long T, double V) At() => inner.At();
    public (long T, FloatHistogram H) AtFloatHistogram(FloatHistogram? into = null) => inner.AtFloatHistogram(into);
    public Histogram AtHistogram() => inner.AtHistogram();
    public long AtT() => inner.AtT();
    public long AtST() => inner.AtST();
    public Exception? Err => inner.Err;
}
