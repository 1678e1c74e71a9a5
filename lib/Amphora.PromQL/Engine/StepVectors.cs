using Amphora.Model;

namespace Amphora.PromQL.Engine;

/// <summary>Walks a <see cref="SeriesResult"/> step by step, yielding the instant vector at each step time.</summary>
internal sealed class StepCursor(List<Series> series)
{
    private readonly int[] _pos = new int[series.Count];

    public void At(long ts, List<Sample> into)
    {
        into.Clear();
        for (int i = 0; i < series.Count; i++)
        {
            var points = series[i].Points;
            int p = _pos[i];
            while (p < points.Count && points[p].T < ts) p++;
            _pos[i] = p;
            if (p < points.Count && points[p].T == ts) into.Add(new Sample(series[i].Metric, ts, points[p].F, points[p].H));
        }
    }
}

/// <summary>Collects per-step outputs into series, in order of first appearance; one point per series and step.</summary>
internal sealed class SeriesAccumulator
{
    private readonly Dictionary<Labels, Series> _byLabels = new();
    // Most label sets arrive as the same object at every step (cached keys and result labels): look those up by reference first.
    private readonly Dictionary<Labels, Series> _byReference = new(ReferenceEqualityComparer.Instance);
    private readonly List<Series> _order = new();
    private long _points;

    public void Add(Labels metric, long ts, double v, FloatHistogram? h = null)
    {
        _points++;
        if (_byReference.TryGetValue(metric, out var known))
        {
            if (known.Points.Count > 0 && known.Points[^1].T == ts)
                throw new PromQLException(PromQLErrorType.Execution, "vector cannot contain metrics with the same labelset");
            known.Points.Add(new FPoint(ts, v, h));
            return;
        }
        if (!_byLabels.TryGetValue(metric, out var series))
        {
            series = new Series(metric, new List<FPoint>());
            _byLabels[metric] = series;
            _order.Add(series);
        }
        else if (series.Points.Count > 0 && series.Points[^1].T == ts)
        {
            throw new PromQLException(PromQLErrorType.Execution, "vector cannot contain metrics with the same labelset");
        }
        series.Points.Add(new FPoint(ts, v, h));
        _byReference[metric] = series;
    }

    /// <summary>Adds a whole series produced at once (range functions work series by series).</summary>
    public void AddSeries(Labels metric, List<FPoint> points)
    {
        if (points.Count == 0) return;
        if (_byLabels.TryGetValue(metric, out var existing))
        {
            var seen = new HashSet<long>(existing.Points.Select(p => p.T));
            foreach (var p in points)
                if (!seen.Add(p.T)) throw new PromQLException(PromQLErrorType.Execution, "vector cannot contain metrics with the same labelset");
            existing.Points.AddRange(points);
            existing.Points.Sort(static (a, b) => a.T.CompareTo(b.T));
            _points += points.Count;
            return;
        }
        _points += points.Count;
        var series = new Series(metric, points);
        _byLabels[metric] = series;
        _order.Add(series);
    }

    public SeriesResult Result() => new(_order);

    /// <summary>Points added so far, kept as a running count: callers check it after every series against the sample limit.</summary>
    public long PointCount => _points;
}
