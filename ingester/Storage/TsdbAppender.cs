using Amphora.Tsdb;
using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Wal;

namespace Amphora.Ingester.Storage;

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
    private Head? _head;
    private int _epoch;

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
        try
        {
            if (_pending.Count > 0 || _metadata.Count > 0) await CommitPendingAsync();
        }
        finally
        {
            Finish();
        }
    }

    private async Task CommitPendingAsync()
    {
        var head = Head;
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
        long minT = long.MaxValue, maxT = long.MinValue;
        for (int i = 0; i < resolved.Length; i++)
        {
            lock (resolved[i].Lock) resolved[i].Apply(samples[i].T, samples[i].V);
            minT = Math.Min(minT, samples[i].T);
            maxT = Math.Max(maxT, samples[i].T);
        }
        if (resolved.Length > 0) head.Observe(minT, maxT);
        foreach (var m in _metadata) storage.ApplyMetadata(workspace, m);
        TsdbStorage.CountAppended(samples.Length);
    }

    public void Rollback() => Finish();

    private void Finish()
    {
        _pending.Clear();
        _pendingLast.Clear();
        _metadata.Clear();
        if (_head is not null) _head.ExitAppend(_epoch);
        _head = null;
    }
}
