using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Amphora.Metrics;

/// <summary>
/// Per-workspace usage of this process, read from the same instruments <c>/metrics</c> exports (whatever
/// <c>--metrics.per-workspace</c> says): samples received and discarded by the distributor, samples processed by the
/// querier's queries, and the ingester's active series (observed on demand). Counters count from the collector's start.
/// Recording is lock-free; thread-safe.
/// </summary>
public sealed class UsageCollector : IDisposable
{
    public const string ReceivedSamples = "amphora_distributor_received_samples";
    public const string DiscardedSamples = "amphora_distributor_discarded_samples";
    public const string QuerySamples = "amphora_querier_samples_processed";
    public const string ActiveSeriesGauge = "amphora_ingester_active_series";

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, Counters> _byWorkspace = new(StringComparer.Ordinal);
    private readonly Lock _observeLock = new();
    private Dictionary<string, long>? _observing;

    private sealed class Counters
    {
        public long Received, QuerySamples;
        public readonly ConcurrentDictionary<string, long> Discarded = new(StringComparer.Ordinal);
    }

    /// <summary>The figures of one workspace at one moment.</summary>
    public sealed record Snapshot(long SamplesReceived, IReadOnlyDictionary<string, long> SamplesDiscarded, long QuerySamplesProcessed, long ActiveSeries);

    public UsageCollector()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name.StartsWith("Amphora", StringComparison.Ordinal)
                && instrument.Name is ReceivedSamples or DiscardedSamples or QuerySamples or ActiveSeriesGauge)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i.Name, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i.Name, v, tags));
        _listener.Start();
    }

    private void Record(string instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? workspace = null, reason = null;
        foreach (var t in tags)
        {
            if (t.Key == MetricsExporter.WorkspaceLabel) workspace = t.Value as string;
            else if (t.Key == "reason") reason = t.Value as string;
        }
        if (workspace is null) return;
        if (instrument == ActiveSeriesGauge)
        {
            // Only during Observe, which holds the lock and owns the dictionary.
            var into = _observing;
            if (into is not null) into[workspace] = into.GetValueOrDefault(workspace) + value;
            return;
        }
        var c = _byWorkspace.GetOrAdd(workspace, static _ => new Counters());
        switch (instrument)
        {
            case ReceivedSamples: Interlocked.Add(ref c.Received, value); break;
            case QuerySamples: Interlocked.Add(ref c.QuerySamples, value); break;
            case DiscardedSamples: c.Discarded.AddOrUpdate(reason ?? "unknown", value, (_, old) => old + value); break;
        }
    }

    /// <summary>The workspace's figures; active series are observed now (the ingester's gauge reads its heads, in memory).</summary>
    public Snapshot For(string workspace)
    {
        long active;
        lock (_observeLock)
        {
            _observing = new Dictionary<string, long>(StringComparer.Ordinal);
            try
            {
                _listener.RecordObservableInstruments();
                active = _observing.GetValueOrDefault(workspace);
            }
            finally
            {
                _observing = null;
            }
        }
        if (!_byWorkspace.TryGetValue(workspace, out var c)) return new Snapshot(0, new Dictionary<string, long>(), 0, active);
        return new Snapshot(Interlocked.Read(ref c.Received), new Dictionary<string, long>(c.Discarded, StringComparer.Ordinal),
            Interlocked.Read(ref c.QuerySamples), active);
    }

    /// <summary>Forgets a deleted workspace's counters.</summary>
    public void Forget(string workspace) => _byWorkspace.TryRemove(workspace, out _);

    public void Dispose() => _listener.Dispose();
}
