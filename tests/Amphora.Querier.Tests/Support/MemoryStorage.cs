using Amphora.Model;
using Amphora.Storage;
using IQueryable = Amphora.Storage.IQueryable;

namespace Amphora.Querier.Tests.Support;

/// <summary>
/// A small in-memory workspace behind the storage contracts the querier reads: every workspace sees the same series. The
/// label calls can be made to wait for their cancellation (<see cref="BlockLabelCalls"/>), to show a request's deadline
/// and disconnect reach them, or to fail (<see cref="Fault"/>), to show an unexpected error still gets a JSON answer.
/// </summary>
public sealed class MemoryStorage : IWorkspaceQueryable, IWorkspaceMetadata, IQueryable
{
    private readonly List<(Labels Labels, long[] T, double[] V)> _series = new();
    private readonly List<(Labels Labels, long[] T, FloatHistogram[] H)> _histograms = new();
    private int _cancelledCalls;

    /// <summary>Label names/values calls (and selects) wait until their token is cancelled, then count it and throw.</summary>
    public bool BlockLabelCalls { get; set; }

    /// <summary>Thrown by every select and label call when set.</summary>
    public Exception? Fault { get; set; }

    /// <summary>How many calls observed their cancellation.</summary>
    public int CancelledCalls => Volatile.Read(ref _cancelledCalls);

    /// <summary>Signalled when a blocked call has started waiting.</summary>
    public TaskCompletionSource CallStarted { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Add(Labels labels, long[] timestamps, double[] values) => _series.Add((labels, timestamps, values));

    /// <summary>A series of native histograms.</summary>
    public void Add(Labels labels, long[] timestamps, FloatHistogram[] histograms) => _histograms.Add((labels, timestamps, histograms));

    /// <summary>
    /// A dataset for PromQL: gauges and counters with a few label dimensions, classic histogram buckets, a series with
    /// NaN/Inf values and a gap; samples every 15s over [0, 1h].
    /// </summary>
    public static MemoryStorage Sample()
    {
        var s = new MemoryStorage();
        var times = Enumerable.Range(0, 241).Select(i => i * 15_000L).ToArray();
        double[] Values(Func<int, double> f) => Enumerable.Range(0, times.Length).Select(f).ToArray();
        for (int i = 0; i < 3; i++)
            s.Add(Labels.FromStrings("__name__", "up", "job", "api", "instance", "h" + i), times, Values(k => (k + i) % 7 == 0 ? 0 : 1));
        foreach (var method in new[] { "get", "post" })
            foreach (var code in new[] { "200", "500" })
                s.Add(Labels.FromStrings("__name__", "http_requests_total", "job", "api", "method", method, "code", code), times,
                    Values(k => k * (code == "200" ? 3 : 1) % 1000)); // a counter with resets
        foreach (var le in new[] { "0.1", "0.5", "1", "+Inf" })
            s.Add(Labels.FromStrings("__name__", "latency_seconds_bucket", "job", "api", "le", le), times,
                Values(k => k * (le == "0.1" ? 1 : le == "0.5" ? 2 : le == "1" ? 3 : 4)));
        s.Add(Labels.FromStrings("__name__", "odd_values", "job", "batch"), times,
            Values(k => (k % 4) switch { 0 => double.NaN, 1 => double.PositiveInfinity, 2 => -1e308, _ => k }));
        var gap = times.Where((_, k) => k < 40 || k > 200).ToArray();
        s.Add(Labels.FromStrings("__name__", "node_temp_celsius", "job", "node", "zone", "a:b"), gap, gap.Select(t => t / 1000.0 % 90).ToArray());
        return s;
    }

    public IQueryable ForWorkspace(string workspace) => this;

    public IQuerier Querier(long minT, long maxT) => new Reader(this, minT, maxT);

    public ValueTask<IReadOnlyDictionary<string, IReadOnlyList<MetricMetadata>>> MetadataAsync(string workspace, string? metric,
        int limit, int limitPerMetric, CancellationToken ct = default) =>
        ValueTask.FromResult<IReadOnlyDictionary<string, IReadOnlyList<MetricMetadata>>>(
            new Dictionary<string, IReadOnlyList<MetricMetadata>>());

    private async Task WaitForCancellationAsync(CancellationToken ct)
    {
        CallStarted.TrySetResult();
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref _cancelledCalls);
            throw;
        }
    }

    private sealed class HistogramSeries(Labels labels, long[] t, FloatHistogram[] h) : ISeries
    {
        public Labels Labels { get; } = labels;
        public ISampleIterator Iterator(ISampleIterator? reuse = null) => new HistogramIterator(t, h);
    }

    /// <summary>Float histograms in time order; each read hands out a copy, as decoding a chunk would.</summary>
    private sealed class HistogramIterator(long[] t, FloatHistogram[] h) : ISampleIterator
    {
        private int _i = -1;
        private Amphora.Storage.ValueType Kind => _i < t.Length ? Amphora.Storage.ValueType.FloatHistogram : Amphora.Storage.ValueType.None;

        public Amphora.Storage.ValueType Next()
        {
            if (_i < t.Length) _i++;
            return Kind;
        }

        public Amphora.Storage.ValueType Seek(long ts)
        {
            if (_i < 0) _i = 0;
            while (_i < t.Length && t[_i] < ts) _i++;
            return Kind;
        }

        public (long T, double V) At() => throw new InvalidOperationException("a histogram series has no float samples");
        public (long T, FloatHistogram H) AtFloatHistogram(FloatHistogram? into = null) => (t[_i], h[_i].Copy());
        public long AtT() => t[_i];
        public Exception? Err => null;
    }

    private sealed class Reader(MemoryStorage storage, long minT, long maxT) : IQuerier
    {
        private IEnumerable<(Labels Labels, long[] T, double[] V)> Matching(IReadOnlyList<LabelMatcher> matchers)
        {
            if (storage.Fault is { } fault) throw fault;
            return storage._series.Where(s => matchers.All(m => m.Matches(s.Labels.Get(m.Name))));
        }

        public async ValueTask<ISeriesSet> SelectAsync(bool sorted, SelectHints? hints, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            if (storage.BlockLabelCalls) await storage.WaitForCancellationAsync(ct);
            var list = new List<ISeries>();
            foreach (var (labels, t, v) in Matching(matchers))
            {
                int from = Array.FindIndex(t, x => x >= minT), to = Array.FindLastIndex(t, x => x <= maxT);
                if (from < 0 || to < from) continue;
                list.Add(new ArraySeries(labels, t[from..(to + 1)], v[from..(to + 1)]));
            }
            foreach (var (labels, t, h) in storage._histograms.Where(s => matchers.All(m => m.Matches(s.Labels.Get(m.Name)))))
            {
                int from = Array.FindIndex(t, x => x >= minT), to = Array.FindLastIndex(t, x => x <= maxT);
                if (from < 0 || to < from) continue;
                list.Add(new HistogramSeries(labels, t[from..(to + 1)], h[from..(to + 1)]));
            }
            if (sorted) list.Sort((a, b) => a.Labels.CompareTo(b.Labels));
            return new ListSeriesSet(list);
        }

        public async ValueTask<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            if (storage.BlockLabelCalls) await storage.WaitForCancellationAsync(ct);
            return Matching(matchers).Select(s => s.Labels.Get(name)).Where(v => v.Length > 0).Distinct().Order(StringComparer.Ordinal).ToList();
        }

        public async ValueTask<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            if (storage.BlockLabelCalls) await storage.WaitForCancellationAsync(ct);
            return Matching(matchers).SelectMany(s => s.Labels.Select(l => l.Name)).Distinct().Order(StringComparer.Ordinal).ToList();
        }

        public void Dispose() { }
    }
}
