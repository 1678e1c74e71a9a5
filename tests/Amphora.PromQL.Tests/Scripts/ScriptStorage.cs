using Amphora.Model;
using Amphora.Storage;
using IQueryable = Amphora.Storage.IQueryable;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.PromQL.Tests.Scripts;

/// <summary>The samples a test script loaded (floats and native histograms), served through the storage contracts the engine reads.</summary>
public sealed class ScriptStorage : IQueryable
{
    private readonly Dictionary<Labels, SortedList<long, (double V, FloatHistogram? H)>> _series = new();
    /// <summary>Start timestamps given by <c>@st</c> lines, by series and sample time.</summary>
    private readonly Dictionary<(Labels, long), long> _startTimestamps = new();

    /// <summary>Series that hold native-histogram samples (evals reaching them are tier 2).</summary>
    public HashSet<Labels> HistogramSeries { get; } = new();

    public void Clear()
    {
        _series.Clear();
        _startTimestamps.Clear();
        HistogramSeries.Clear();
    }

    public void Add(Labels labels, long t, double v) => Put(labels, t, (v, null));

    /// <summary>The start timestamp of the sample of <paramref name="labels"/> at <paramref name="t"/> (loaded before or after it).</summary>
    public void SetStartTimestamp(Labels labels, long t, long st) => _startTimestamps[(labels, t)] = st;

    public void Add(Labels labels, long t, FloatHistogram h)
    {
        HistogramSeries.Add(labels);
        Put(labels, t, (0, h));
    }

    private void Put(Labels labels, long t, (double, FloatHistogram?) sample)
    {
        if (!_series.TryGetValue(labels, out var samples)) _series[labels] = samples = new SortedList<long, (double, FloatHistogram?)>();
        samples[t] = sample;
    }

    public bool ReachesHistograms(IReadOnlyList<LabelMatcher> matchers) =>
        HistogramSeries.Any(l => matchers.All(m => m.Matches(l.Get(m.Name))));

    public IQuerier Querier(long minT, long maxT) => new ScriptQuerier(this, minT, maxT);

    private sealed class ScriptQuerier(ScriptStorage storage, long minT, long maxT) : IQuerier
    {
        private IEnumerable<KeyValuePair<Labels, SortedList<long, (double V, FloatHistogram? H)>>> Matching(IReadOnlyList<LabelMatcher> matchers) =>
            storage._series.Where(kv => matchers.All(m => m.Matches(kv.Key.Get(m.Name))));

        public ValueTask<ISeriesSet> SelectAsync(bool sorted, SelectHints? hints, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var list = new List<ISeries>();
            foreach (var (labels, samples) in Matching(matchers))
            {
                var read = ReadBackHints(samples);
                var inRange = read.Where(s => s.T >= minT && s.T <= maxT).ToArray();
                if (inRange.Length == 0) continue;
                var st = inRange.Select(s => storage._startTimestamps.GetValueOrDefault((labels, s.T))).ToArray();
                list.Add(new ScriptSeries(labels, inRange, st));
            }
            list.Sort((a, b) => a.Labels.CompareTo(b.Labels));
            return ValueTask.FromResult<ISeriesSet>(new ListSeriesSet(list));
        }

        public ValueTask<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default) =>
            ValueTask.FromResult<IReadOnlyList<string>>(Matching(matchers).Select(kv => kv.Key.Get(name)).Where(v => v.Length > 0).Distinct().Order(StringComparer.Ordinal).ToList());

        public ValueTask<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default) =>
            ValueTask.FromResult<IReadOnlyList<string>>(Matching(matchers).SelectMany(kv => kv.Key.Select(l => l.Name)).Distinct().Order(StringComparer.Ordinal).ToList());

        public void Dispose() { }
    }

    /// <summary>
    /// The counter-reset hints Prometheus's TSDB hands back, which the reference results depend on: a histogram chunk is
    /// cut at a counter reset, at a change of schema, zero threshold or custom bounds, after a float or gauge sample, and
    /// at the series start; a chunk's first sample reads back as "unknown" (even after a reset, prometheus/prometheus#15346),
    /// the others as "not reset". Gauge histograms stay gauges.
    /// </summary>
    private static (long T, double V, FloatHistogram? H)[] ReadBackHints(SortedList<long, (double V, FloatHistogram? H)> samples)
    {
        var result = new (long T, double V, FloatHistogram? H)[samples.Count];
        FloatHistogram? prev = null;
        for (int i = 0; i < samples.Count; i++)
        {
            var (v, h) = samples.Values[i];
            long t = samples.Keys[i];
            if (h is null || StaleNaN.Is(h.Sum))
            {
                result[i] = (t, v, h);
                prev = null;
                continue;
            }
            var read = h.Copy();
            if (h.CounterResetHint != CounterResetHint.Gauge)
            {
                bool newChunk = prev is null || prev.CounterResetHint == CounterResetHint.Gauge || prev.Schema != h.Schema ||
                    prev.ZeroThreshold != h.ZeroThreshold || !prev.CustomValues.AsSpan().SequenceEqual(h.CustomValues);
                bool reset = h.CounterResetHint == CounterResetHint.CounterReset || (prev is not null && prev.CounterResetHint != CounterResetHint.Gauge && h.DetectReset(prev));
                read.CounterResetHint = reset || newChunk ? CounterResetHint.Unknown : CounterResetHint.NotCounterReset;
            }
            result[i] = (t, v, read);
            prev = h;
        }
        return result;
    }

    private sealed class ScriptSeries(Labels labels, (long T, double V, FloatHistogram? H)[] samples, long[] startTimestamps) : ISeries
    {
        public Labels Labels { get; } = labels;
        public ISampleIterator Iterator(ISampleIterator? reuse = null) => new ScriptIterator(samples, startTimestamps);
    }

    /// <summary>Yields floats and float histograms (with their start timestamps); histograms are handed out as copies, as storage decodes them afresh.</summary>
    private sealed class ScriptIterator((long T, double V, FloatHistogram? H)[] samples, long[] startTimestamps) : ISampleIterator
    {
        private int _i = -1;

        private ValueType Kind => _i < samples.Length ? (samples[_i].H is null ? ValueType.Float : ValueType.FloatHistogram) : ValueType.None;

        public ValueType Next()
        {
            if (_i < samples.Length) _i++;
            return Kind;
        }

        public ValueType Seek(long t)
        {
            if (_i < 0) _i = 0;
            while (_i < samples.Length && samples[_i].T < t) _i++;
            return Kind;
        }

        public (long T, double V) At() => (samples[_i].T, samples[_i].V);

        public (long T, FloatHistogram H) AtFloatHistogram(FloatHistogram? into = null)
        {
            var h = samples[_i].H!;
            if (into is null) return (samples[_i].T, h.Copy());
            h.CopyTo(into);
            return (samples[_i].T, into);
        }

        public long AtT() => samples[_i].T;
        public long AtST() => startTimestamps[_i];
        public Exception? Err => null;
    }
}
