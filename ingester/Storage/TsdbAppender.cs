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
    }

    private readonly Dictionary<Labels, PendingSeries> _series = new();
    private readonly List<(PendingSeries Series, long T, double V)> _samples = new();
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

    public AppendStatus Append(ref ulong seriesRef, Labels labels, long t, double v)
    {
        var head = Head;
        if (t < head.AppendableMinTime) return AppendStatus.TooOld;
        if (!_series.TryGetValue(labels, out var pending))
        {
            var found = head.FindPinned(labels);
            if (found is null && storage.Accounting?.TryAdmit(workspace, labels) is { } refusal)
            {
                LastRejection = refusal;
                return AppendStatus.SeriesLimit;
            }
            _series[labels] = pending = new PendingSeries(labels, found, admitted: found is null && storage.Accounting is not null);
        }
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
                return BitConverter.DoubleToInt64Bits(v) == BitConverter.DoubleToInt64Bits(pending.LastV) ? AppendStatus.Ok : AppendStatus.DuplicateTimestamp;
            if (t < pending.LastT && (storage.WindowMs <= 0 || t < pending.LastT - storage.WindowMs)) return AppendStatus.OutOfOrder;
        }
        if (!pending.HasSamples || t > pending.LastT)
        {
            pending.HasSamples = true;
            pending.LastT = t;
            pending.LastV = v;
        }
        _samples.Add((pending, t, v));
        return AppendStatus.Ok;
    }

    public void UpdateMetadata(MetricMetadata metadata) => _metadata.Add(metadata);

    private List<(Labels Series, Exemplar Exemplar)>? _exemplars;

    public void AppendExemplar(Labels series, Exemplar exemplar) => (_exemplars ??= new()).Add((series, exemplar));

    public async ValueTask CommitAsync(CancellationToken ct = default)
    {
        try
        {
            if (_samples.Count > 0 || _metadata.Count > 0) await CommitPendingAsync();
            // After the samples are durable and applied: only series this request wrote samples to get exemplars.
            if (_exemplars is not null)
                foreach (var (series, exemplar) in _exemplars)
                    if (_series.TryGetValue(series, out var pending) && pending.HasSamples) storage.AddExemplar(workspace, series, exemplar);
        }
        finally
        {
            Finish();
        }
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
        var samples = new WalSample[_samples.Count];
        for (int i = 0; i < samples.Length; i++)
        {
            var (pending, t, v) = _samples[i];
            samples[i] = new WalSample(pending.Series!.Ref, t, v);
        }
        if (samples.Length > 0) last = storage.AppendWal(WalRecordType.Samples, WalRecords.EncodeSamples(workspace, samples));
        foreach (var m in _metadata) last = storage.AppendWal(WalRecordType.Metadata, WalRecords.EncodeMetadata(workspace, m));
        await storage.CommitWalAsync(last);

        // Durable: now memory. A concurrent request may have stored the same timestamp meanwhile; Apply keeps the first.
        long minT = long.MaxValue, maxT = long.MinValue;
        for (int i = 0; i < samples.Length; i++)
        {
            var series = _samples[i].Series.Series!;
            lock (series.Lock) series.Apply(samples[i].T, samples[i].V);
            minT = Math.Min(minT, samples[i].T);
            maxT = Math.Max(maxT, samples[i].T);
        }
        if (samples.Length > 0) head.Observe(minT, maxT);
        foreach (var m in _metadata) storage.ApplyMetadata(workspace, m);
        TsdbStorage.CountAppended(samples.Length);
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
        _metadata.Clear();
        if (_head is not null) _head.ExitAppend(_epoch);
        _head = null;
    }
}
