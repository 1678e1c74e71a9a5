using Amphora.Tsdb;
using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Wal;

namespace Amphora.Ingester.Storage;

/// <summary>
/// One request's samples: checked at <see cref="Append"/> against the series' current state and the request's own earlier
/// samples; <see cref="CommitAsync"/> logs new series, the samples and metadata to the WAL, waits for the sync, then applies
/// them to memory. Every series the request touches is pinned in the head from its first sample to the end of the commit
/// (or the rollback), so the head's GC cannot remove it in between; a new series is admitted by the series limits at its
/// first sample and released again if another request created it first. The commit is linear in the request's size.
/// </summary>
internal sealed class TsdbAppender(TsdbStorage storage, string workspace) : IAppender
{
    /// <summary>One series of the request: the head's series (pinned) or null until the commit creates it, and the newest
    /// sample the request holds for it.</summary>
    private sealed class PendingSeries(Labels labels, MemSeries? series, bool admitted)
    {
        public readonly Labels Labels = labels;
        public MemSeries? Series = series;
        /// <summary>Counted by the series limits for a series this request has not created (yet).</summary>
        public bool Admitted = admitted;
        public bool HasSamples;
        public long LastT;
        public double LastV;
        public Histogram? LastH;
        public FloatHistogram? LastF;
    }

    private readonly Dictionary<Labels, PendingSeries> _series = new();
    /// <summary>The request's samples in the order they came; <c>H</c> is set for a histogram sample, <c>ST</c> is the start
    /// timestamp (0 = none).</summary>
    private readonly List<(PendingSeries Series, long T, double V, Histogram? H, FloatHistogram? F, long ST)> _samples = new();
    /// <summary>Whether any sample of the request has a start timestamp (then the commit logs them).</summary>
    private bool _anyST;
    private readonly List<MetricMetadata> _metadata = new();
    private Head? _head;
    private int _epoch;

    public SeriesRefusal? LastRejection { get; private set; }

    /// <summary>The workspace's head, registered with it until Commit or Rollback so a block cut waits for this appender.</summary>
    private Head Head
    {
        get
        {
            if (_head is null)
            {
                _head = storage.HeadFor(workspace);
                _epoch = _head.EnterAppend();
            }
            return _head;
        }
    }

    public AppendStatus Append(ref ulong seriesRef, Labels labels, long t, double v) => Append(ref seriesRef, labels, t, v, 0);

    public AppendStatus AppendHistogram(ref ulong seriesRef, Labels labels, long t, Histogram histogram) =>
        AppendHistogram(ref seriesRef, labels, t, histogram, 0);

    public AppendStatus AppendFloatHistogram(ref ulong seriesRef, Labels labels, long t, FloatHistogram histogram) =>
        AppendFloatHistogram(ref seriesRef, labels, t, histogram, 0);

    public AppendStatus Append(ref ulong seriesRef, Labels labels, long t, double v, long st)
    {
        if (Pending(labels, t, out var pending) is { } refused) return refused;
        if (pending.Series is { } series)
        {
            lock (series.Lock)
            {
                var status = series.Check(t, v, storage.WindowMs, out bool noOp);
                if (status != AppendStatus.Ok || noOp) return status;
            }
        }
        if (pending.HasSamples)
        {
            // Within one request the samples of a series keep to the same rules.
            if (t == pending.LastT)
                return pending.LastH is null && pending.LastF is null && BitConverter.DoubleToInt64Bits(v) == BitConverter.DoubleToInt64Bits(pending.LastV)
                    ? AppendStatus.Ok : AppendStatus.DuplicateTimestamp;
            if (t < pending.LastT && (storage.WindowMs <= 0 || t < pending.LastT - storage.WindowMs)) return AppendStatus.OutOfOrder;
        }
        if (!pending.HasSamples || t > pending.LastT)
        {
            pending.HasSamples = true;
            pending.LastT = t;
            pending.LastV = v;
            pending.LastH = null;
            pending.LastF = null;
        }
        Add(pending, t, v, null, null, st);
        return AppendStatus.Ok;
    }

    /// <summary>Histograms are in order only (as in Prometheus 2.42): one older than the series' newest sample, stored or
    /// earlier in the request, is refused as out of order whatever the out-of-order window.</summary>
    public AppendStatus AppendHistogram(ref ulong seriesRef, Labels labels, long t, Histogram histogram, long st)
    {
        if (Pending(labels, t, out var pending) is { } refused) return refused;
        if (pending.Series is { } series)
        {
            lock (series.Lock)
            {
                var status = series.CheckHistogram(t, histogram, out bool noOp);
                if (status != AppendStatus.Ok || noOp) return status;
            }
        }
        if (pending.HasSamples)
        {
            if (t == pending.LastT) return pending.LastH is { } last && last.SameAs(histogram) ? AppendStatus.Ok : AppendStatus.DuplicateTimestamp;
            if (t < pending.LastT) return AppendStatus.OutOfOrder;
        }
        pending.HasSamples = true;
        pending.LastT = t;
        pending.LastH = histogram;
        pending.LastF = null;
        Add(pending, t, 0, histogram, null, st);
        return AppendStatus.Ok;
    }

    /// <summary>Float histograms follow the rules of integer ones (in order only).</summary>
    public AppendStatus AppendFloatHistogram(ref ulong seriesRef, Labels labels, long t, FloatHistogram histogram, long st)
    {
        if (Pending(labels, t, out var pending) is { } refused) return refused;
        if (pending.Series is { } series)
        {
            lock (series.Lock)
            {
                var status = series.CheckFloatHistogram(t, histogram, out bool noOp);
                if (status != AppendStatus.Ok || noOp) return status;
            }
        }
        if (pending.HasSamples)
        {
            if (t == pending.LastT) return pending.LastF is { } last && last.IdenticalTo(histogram) ? AppendStatus.Ok : AppendStatus.DuplicateTimestamp;
            if (t < pending.LastT) return AppendStatus.OutOfOrder;
        }
        pending.HasSamples = true;
        pending.LastT = t;
        pending.LastH = null;
        pending.LastF = histogram;
        Add(pending, t, 0, null, histogram, st);
        return AppendStatus.Ok;
    }

    private void Add(PendingSeries pending, long t, double v, Histogram? h, FloatHistogram? f, long st)
    {
        _samples.Add((pending, t, v, h, f, st));
        if (st != 0) _anyST = true;
    }

    /// <summary>The request's entry for the series (found in the head and pinned, or admitted as new by the series limits),
    /// or why the sample is refused before looking at it.</summary>
    private AppendStatus? Pending(Labels labels, long t, out PendingSeries pending)
    {
        var head = Head;
        pending = null!;
        if (t < head.AppendableMinTime) return AppendStatus.TooOld;
        if (!_series.TryGetValue(labels, out pending!))
        {
            var found = head.FindPinned(labels);
            if (found is null && storage.Accounting?.TryAdmit(workspace, labels) is { } refusal)
            {
                LastRejection = refusal;
                return AppendStatus.SeriesLimit;
            }
            _series[labels] = pending = new PendingSeries(labels, found, admitted: found is null && storage.Accounting is not null);
        }
        return null;
    }

    public void UpdateMetadata(MetricMetadata metadata) => _metadata.Add(metadata);

    private List<(Labels Series, Exemplar Exemplar)>? _exemplars;

    public void AppendExemplar(Labels series, Exemplar exemplar) => (_exemplars ??= new()).Add((series, exemplar));

    public async ValueTask CommitAsync(CancellationToken ct = default)
    {
        try
        {
            if (_exemplars is not null) PinExemplarSeries();
            if (_samples.Count > 0 || _metadata.Count > 0 || _exemplars is not null) await CommitPendingAsync();
            // After the samples are durable and applied: exemplars go to series the head has (created by this request or
            // before it).
            if (_exemplars is not null)
                foreach (var (series, exemplar) in _exemplars)
                    if (_series.TryGetValue(series, out var pending) && pending.Series is not null) storage.AddExemplar(workspace, series, exemplar);
        }
        finally
        {
            Finish();
        }
    }

    /// <summary>
    /// Finds and pins the series of exemplars that came without samples of their series in this request: Prometheus sends a
    /// series' exemplars in a TimeSeries of their own, in the same request as its samples or a later one. An exemplar of a
    /// series that neither the head nor this request's samples create is dropped, as in Prometheus; an exemplar never
    /// creates a series or counts against the series limits.
    /// </summary>
    private void PinExemplarSeries()
    {
        foreach (var (series, _) in _exemplars!)
            if (!_series.ContainsKey(series) && Head.FindPinned(series) is { } found)
                _series[series] = new PendingSeries(series, found, admitted: false);
    }

    private async Task CommitPendingAsync()
    {
        var head = Head;
        foreach (var pending in _series.Values)
        {
            if (pending.Series is not null || !pending.HasSamples) continue;
            pending.Series = head.GetOrCreate(pending.Labels, storage.NextRef,
                s => storage.AppendWal(WalRecordType.Series, WalRecords.EncodeSeries(new WalSeries(workspace, s.Ref, s.Labels))),
                out bool created);
            if (!created) continue;
            pending.Admitted = false; // the head holds the series the limits counted
            TsdbStorage.CountCreated();
        }
        long last = 0;
        // The start timestamps go first, so a replay has them when it applies the samples.
        if (_anyST) storage.AppendWal(WalRecordType.StartTimestamps, EncodeStartTimestamps());
        // One record per run of one kind (floats, histograms, float histograms), in the request's order, so a replay applies
        // them in the same order.
        for (int start = 0; start < _samples.Count;)
        {
            var kind = KindOf(start);
            int end = start;
            while (end < _samples.Count && KindOf(end) == kind) end++;
            last = storage.AppendWal(kind, EncodeRun(start, end, kind));
            start = end;
        }
        if (EncodeExemplars() is { } exemplars) last = storage.AppendWal(WalRecordType.Exemplars, exemplars);
        foreach (var m in _metadata) last = storage.AppendWal(WalRecordType.Metadata, WalRecords.EncodeMetadata(workspace, m));
        await storage.CommitWalAsync(last);

        // Durable: now memory. A concurrent request may have stored the same timestamp meanwhile; Apply keeps the first.
        long minT = long.MaxValue, maxT = long.MinValue;
        foreach (var (pending, t, v, h, f, st) in _samples)
        {
            var series = pending.Series!;
            lock (series.Lock)
            {
                if (h is not null) series.ApplyHistogram(t, h, st);
                else if (f is not null) series.ApplyFloatHistogram(t, f, st);
                else series.Apply(t, v, st);
            }
            minT = Math.Min(minT, t);
            maxT = Math.Max(maxT, t);
        }
        if (_samples.Count > 0) head.Observe(minT, maxT);
        foreach (var m in _metadata) storage.ApplyMetadata(workspace, m);
        TsdbStorage.CountAppended(_samples.Count);
    }

    private WalRecordType KindOf(int i) => _samples[i].H is not null ? WalRecordType.HistogramSamples
        : _samples[i].F is not null ? WalRecordType.FloatHistogramSamples : WalRecordType.Samples;

    private byte[] EncodeRun(int start, int end, WalRecordType kind)
    {
        if (kind == WalRecordType.FloatHistogramSamples)
        {
            var run = new WalFloatHistogramSample[end - start];
            for (int i = start; i < end; i++) run[i - start] = new WalFloatHistogramSample(_samples[i].Series.Series!.Ref, _samples[i].T, _samples[i].F!);
            return WalHistogramRecords.EncodeFloat(workspace, run);
        }
        if (kind == WalRecordType.HistogramSamples)
        {
            var run = new WalHistogramSample[end - start];
            for (int i = start; i < end; i++) run[i - start] = new WalHistogramSample(_samples[i].Series.Series!.Ref, _samples[i].T, _samples[i].H!);
            return WalHistogramRecords.Encode(workspace, run);
        }
        var floats = new WalSample[end - start];
        for (int i = start; i < end; i++) floats[i - start] = new WalSample(_samples[i].Series.Series!.Ref, _samples[i].T, _samples[i].V);
        return WalRecords.EncodeSamples(workspace, floats);
    }

    /// <summary>The exemplars of series the head has once this commit created its new ones that the store would keep
    /// (<see cref="CommitAsync"/> adds them once the samples are applied), or null when there are none.</summary>
    private byte[]? EncodeExemplars()
    {
        if (_exemplars is null) return null;
        List<WalExemplar>? logged = null;
        foreach (var (series, exemplar) in _exemplars)
            if (_series.TryGetValue(series, out var pending) && pending.Series is not null && storage.WouldKeepExemplar(workspace, series, exemplar))
                (logged ??= new()).Add(new WalExemplar(pending.Series!.Ref, exemplar));
        return logged is null ? null : WalRecords.EncodeExemplars(workspace, logged.ToArray());
    }

    private byte[] EncodeStartTimestamps()
    {
        var entries = new List<WalStartTimestamp>();
        foreach (var s in _samples)
            if (s.ST != 0) entries.Add(new WalStartTimestamp(s.Series.Series!.Ref, s.T, s.ST));
        return WalRecords.EncodeStartTimestamps(workspace, entries.ToArray());
    }

    public void Rollback() => Finish();

    /// <summary>Unpins the request's series and gives back admissions of series it did not create.</summary>
    private void Finish()
    {
        foreach (var pending in _series.Values)
        {
            if (pending.Series is { } series)
                lock (series.Lock) series.Unpin();
            if (pending.Admitted) storage.Accounting?.Release(workspace, pending.Labels);
        }
        _series.Clear();
        _samples.Clear();
        _anyST = false;
        _metadata.Clear();
        if (_head is not null) _head.ExitAppend(_epoch);
        _head = null;
    }
}
