using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Head;
using Amphora.Tsdb.Wal;

namespace Amphora.Tsdb.Storage;

/// <summary>
/// One request's samples: checked at <see cref="Append"/> against the series' current state and the request's own earlier
/// samples; <see cref="CommitAsync"/> logs new series, the samples and metadata to the WAL, waits for the sync, then applies
/// them to memory.
/// </summary>
internal sealed class TsdbAppender(TsdbStorage storage, string workspace) : IAppender
{
    private readonly List<(Labels Labels, MemSeries? Series, long T, double V)> _pending = new();
    private readonly Dictionary<Labels, (long T, double V)> _pendingLast = new();
    private readonly List<MetricMetadata> _metadata = new();

    public AppendStatus Append(ref ulong seriesRef, Labels labels, long t, double v)
    {
        var head = storage.HeadFor(workspace);
        var series = head.Find(labels);
        if (series is not null)
        {
            lock (series.Lock)
            {
                var status = series.Check(t, v, storage.WindowMs, out bool noOp);
                if (status != AppendStatus.Ok || noOp) return status;
            }
        }
        if (_pendingLast.TryGetValue(labels, out var last))
        {
            // Within one request the samples of a series keep to the same rules.
            if (t == last.T)
                return BitConverter.DoubleToInt64Bits(v) == BitConverter.DoubleToInt64Bits(last.V) ? AppendStatus.Ok : AppendStatus.DuplicateTimestamp;
            if (t < last.T && (storage.WindowMs <= 0 || t < last.T - storage.WindowMs)) return AppendStatus.OutOfOrder;
        }
        if (t > last.T || !_pendingLast.ContainsKey(labels)) _pendingLast[labels] = (t, v);
        _pending.Add((labels, series, t, v));
        return AppendStatus.Ok;
    }

    public void UpdateMetadata(MetricMetadata metadata) => _metadata.Add(metadata);

    public async ValueTask CommitAsync(CancellationToken ct = default)
    {
        if (_pending.Count == 0 && _metadata.Count == 0) return;
        var head = storage.HeadFor(workspace);
        var samples = new WalSample[_pending.Count];
        var resolved = new MemSeries[_pending.Count];
        long last = 0;
        for (int i = 0; i < _pending.Count; i++)
        {
            var (labels, series, t, v) = _pending[i];
            if (series is null)
            {
                long seriesRecord = 0;
                series = head.GetOrCreate(labels, storage.NextRef,
                    s => seriesRecord = storage.AppendWal(WalRecordType.Series, WalRecords.EncodeSeries(new WalSeries(workspace, s.Ref, s.Labels))),
                    out bool created);
                if (created) last = seriesRecord;
                for (int k = i; k < _pending.Count; k++)
                    if (_pending[k].Series is null && _pending[k].Labels.Equals(labels)) _pending[k] = _pending[k] with { Series = series };
            }
            resolved[i] = series;
            samples[i] = new WalSample(series.Ref, t, v);
        }
        if (samples.Length > 0) last = storage.AppendWal(WalRecordType.Samples, WalRecords.EncodeSamples(workspace, samples));
        foreach (var m in _metadata) last = storage.AppendWal(WalRecordType.Metadata, WalRecords.EncodeMetadata(workspace, m));
        await storage.CommitWalAsync(last);

        // Durable: now memory. A concurrent request may have stored the same timestamp meanwhile; Apply keeps the first.
        for (int i = 0; i < resolved.Length; i++)
            lock (resolved[i].Lock) resolved[i].Apply(samples[i].T, samples[i].V);
        foreach (var m in _metadata) storage.ApplyMetadata(workspace, m);
        TsdbStorage.CountAppended(samples.Length);
        _pending.Clear();
        _pendingLast.Clear();
        _metadata.Clear();
    }

    public void Rollback()
    {
        _pending.Clear();
        _pendingLast.Clear();
        _metadata.Clear();
    }
}
