using Amphora.Model;

namespace Amphora.Storage;

/// <summary>
/// Merges sorted series sets into one sorted set: series with equal labels from several sets (replicas on three ingesters,
/// the head and a block, overlapping blocks) become one series whose samples are merged by timestamp, a timestamp present
/// in several inputs appearing once. Inputs must be sorted by labels. Errors and warnings of every input are carried.
/// </summary>
public sealed class MergeSeriesSet : ISeriesSet
{
    private readonly ISeriesSet[] _sets;
    private readonly Func<Labels, ISeries[], ISeries>? _merge;
    private readonly bool[] _hasCurrent;
    private readonly List<ISeries> _group = new();
    private ISeries? _current;
    private bool _started;
    private Exception? _err;

    /// <param name="merge">How the series of one label set found in several inputs become one (by default a
    /// <see cref="MergedSeries"/>, which merges their samples by timestamp).</param>
    public MergeSeriesSet(IReadOnlyList<ISeriesSet> sets, Func<Labels, ISeries[], ISeries>? merge = null)
    {
        _sets = sets.ToArray();
        _merge = merge;
        _hasCurrent = new bool[_sets.Length];
    }

    /// <summary>Merges, or returns the single input (or the empty set) when there is nothing to merge.</summary>
    public static ISeriesSet Of(IReadOnlyList<ISeriesSet> sets, Func<Labels, ISeries[], ISeries>? merge = null) => sets.Count switch
    {
        0 => EmptySeriesSet.Instance,
        1 => sets[0],
        _ => new MergeSeriesSet(sets, merge),
    };

    public bool Next()
    {
        if (_err is not null) return false;
        if (!_started)
        {
            _started = true;
            for (int i = 0; i < _sets.Length; i++) _hasCurrent[i] = Advance(i);
        }
        else
        {
            // Advance every input that contributed to the previous series.
            var previous = _current!.Labels;
            for (int i = 0; i < _sets.Length; i++)
                if (_hasCurrent[i] && _sets[i].At().Labels.Equals(previous)) _hasCurrent[i] = Advance(i);
        }
        if (_err is not null) return false;

        Labels? smallest = null;
        for (int i = 0; i < _sets.Length; i++)
        {
            if (!_hasCurrent[i]) continue;
            var labels = _sets[i].At().Labels;
            if (smallest is null || labels.CompareTo(smallest) < 0) smallest = labels;
        }
        if (smallest is null) return false;

        _group.Clear();
        for (int i = 0; i < _sets.Length; i++)
            if (_hasCurrent[i] && _sets[i].At().Labels.Equals(smallest)) _group.Add(_sets[i].At());
        _current = _group.Count == 1 ? _group[0]
            : _merge is not null ? _merge(smallest, _group.ToArray()) : new MergedSeries(smallest, _group.ToArray());
        return true;
    }

    private bool Advance(int i)
    {
        if (_sets[i].Next()) return true;
        _err ??= _sets[i].Err;
        return false;
    }

    public ISeries At() => _current ?? throw new InvalidOperationException("Next was not called or returned false");

    public Exception? Err => _err;

    public IReadOnlyList<string> Warnings
    {
        get
        {
            List<string>? all = null;
            foreach (var set in _sets)
                if (set.Warnings.Count > 0) (all ??= new List<string>()).AddRange(set.Warnings);
            return all is null ? [] : all.Distinct().ToList();
        }
    }
}

/// <summary>One series present in several inputs; its iterator merges theirs by timestamp.</summary>
public sealed class MergedSeries(Labels labels, ISeries[] parts) : ISeries
{
    public Labels Labels { get; } = labels;

    public ISampleIterator Iterator(ISampleIterator? reuse = null)
    {
        var iterators = new ISampleIterator[parts.Length];
        var old = reuse as MergeSampleIterator;
        for (int i = 0; i < parts.Length; i++)
            iterators[i] = parts[i].Iterator(old is not null && i < old.Inputs.Length ? old.Inputs[i] : null);
        return new MergeSampleIterator(iterators);
    }
}

/// <summary>
/// Merges sample iterators by timestamp; at equal timestamps the first input's sample wins and the others are skipped
/// (replicas hold the same value; the head wins over a block, being listed first). Sticky errors from any input.
/// A histogram sample taken from another input than the sample before it has its reset hint (reset or no reset, which
/// its input said of its own previous sample) made unknown, as Prometheus's merging iterator does: readers then compare
/// it with the sample they actually saw before it.
/// </summary>
public sealed class MergeSampleIterator : ISampleIterator
{
    private readonly ISampleIterator[] _inputs;
    private readonly ValueType[] _state;
    private readonly bool[] _done;
    private bool _started;
    private int _current = -1;
    private int _last = -1;
    private bool _switched;
    private Exception? _err;

    public MergeSampleIterator(ISampleIterator[] inputs)
    {
        _inputs = inputs;
        _state = new ValueType[inputs.Length];
        _done = new bool[inputs.Length];
    }

    internal ISampleIterator[] Inputs => _inputs;

    public ValueType Next()
    {
        if (_err is not null) return ValueType.None;
        if (!_started)
        {
            _started = true;
            for (int i = 0; i < _inputs.Length; i++) Record(i, _inputs[i].Next());
        }
        else
        {
            if (_current < 0) return ValueType.None;
            long t = _inputs[_current].AtT();
            for (int i = 0; i < _inputs.Length; i++)
                if (!_done[i] && _inputs[i].AtT() == t) Record(i, _inputs[i].Next());
        }
        return Pick();
    }

    public ValueType Seek(long t)
    {
        if (_err is not null) return ValueType.None;
        if (_started && _current >= 0 && _inputs[_current].AtT() >= t) return _state[_current];
        _started = true;
        for (int i = 0; i < _inputs.Length; i++)
            if (!_done[i]) Record(i, _inputs[i].Seek(t));
        return Pick();
    }

    private void Record(int i, ValueType next)
    {
        _state[i] = next;
        if (next != ValueType.None) return;
        _done[i] = true;
        _err ??= _inputs[i].Err;
    }

    private ValueType Pick()
    {
        _current = -1;
        if (_err is not null) return ValueType.None;
        long best = long.MaxValue;
        for (int i = 0; i < _inputs.Length; i++)
        {
            if (_done[i]) continue;
            long t = _inputs[i].AtT();
            if (t < best)
            {
                best = t;
                _current = i;
            }
        }
        if (_current < 0) return ValueType.None;
        _switched = _last >= 0 && _last != _current;
        _last = _current;
        return _state[_current];
    }

    public (long T, double V) At() => _inputs[_current].At();
    public (long T, FloatHistogram H) AtFloatHistogram(FloatHistogram? into = null)
    {
        var at = _inputs[_current].AtFloatHistogram(into);
        if (_switched && at.H.CounterResetHint is CounterResetHint.CounterReset or CounterResetHint.NotCounterReset)
            at.H.CounterResetHint = CounterResetHint.Unknown;
        return at;
    }

    public Histogram AtHistogram()
    {
        var h = _inputs[_current].AtHistogram();
        return _switched && h.CounterResetHint is CounterResetHint.CounterReset or CounterResetHint.NotCounterReset
            ? h.WithHint(CounterResetHint.Unknown) : h;
    }

    public long AtT() => _inputs[_current].AtT();
    public long AtST() => _inputs[_current].AtST();
    public Exception? Err => _err;
}
