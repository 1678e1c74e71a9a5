using System.Diagnostics.Metrics;
using Amphora.Cluster;
using Amphora.Cluster.Protocol;
using Amphora.Model;
using Amphora.Ring;
using Amphora.Storage;
using Grpc.Core;

namespace Amphora.Querier.Cluster;

/// <summary>
/// One select over the ring: QueryStream from the healthy ingesters at once, the replicas merged as their batches arrive
/// (each stream is sorted by labels, so series are merged in one pass, a k-way merge). A batch is released as soon as its
/// series are merged; while it is read, the next one is being received. What the querier holds of the ingesters' messages
/// is therefore at most two batches per ingester, whatever the answer's size; what the merge keeps is each series once,
/// as encoded chunks, decoded only when the engine iterates it. A stream that fails midway counts as an ingester that did
/// not answer (the series it already gave are kept: they are real samples); more failures than the replication tolerates
/// fail the select.
/// </summary>
internal static class ReplicaStreams
{
    private static readonly Meter Meter = new("Amphora.Querier");
    private static readonly Histogram<long> PeakBytes = Meter.CreateHistogram<long>("amphora_querier_ingester_stream_peak_bytes",
        unit: "By", description: "Per select over the ring, the most bytes of ingester QueryStream messages held at once while merging replicas.",
        tags: null, advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24, 1 << 26] });
    private static readonly Counter<long> ReceivedBytes = Meter.CreateCounter<long>("amphora_querier_ingester_stream_received_bytes",
        unit: "By", description: "Bytes of ingester QueryStream messages received by selects over the ring.");
    private static readonly Counter<long> MinimizedRetries = Meter.CreateCounter<long>("amphora_querier_select_retried_on_all_ingesters",
        description: "Selects that asked all but one ingester, saw one of them fail and were run again over every ingester.");

    private static int _rotation;

    /// <summary>
    /// A select asks as few ingesters as every series needs: a sample acknowledged at the write quorum is on W of its RF
    /// replicas, so reading all but RF − W of them still sees it (with RF 3, any 2 of the 3 owners). While every ingester is
    /// healthy, the first attempt leaves out one ingester (a different one each time, so the load is spread); if any asked
    /// ingester fails, the select is run again over all of them, with the failures the replication tolerates.
    /// </summary>
    public static async Task<ISeriesSet> SelectAsync(RingClient ring, QueryRequest request, TimeSpan timeout, CancellationToken ct)
    {
        var (targets, unreachable, tolerated, total, rf, leftOut) = RingQueryable.Targets(ring);
        if (tolerated - unreachable > 0 && targets.Count > 1)
        {
            int skip = (int)((uint)Interlocked.Increment(ref _rotation) % (uint)targets.Count);
            var fewer = new List<RingInstance>(targets);
            fewer.RemoveAt(skip);
            if (await TrySelectAsync(ring, request, timeout, fewer, ct) is { } set) return set;
            MinimizedRetries.Add(1);
        }
        return await SelectAsync(ring, request, timeout, targets, unreachable, tolerated, total, rf, leftOut, ct);
    }

    /// <summary>The select over the given ingesters when every one of them answers, else null.</summary>
    private static async Task<ISeriesSet?> TrySelectAsync(RingClient ring, QueryRequest request, TimeSpan timeout, List<RingInstance> targets,
        CancellationToken ct)
    {
        try
        {
            return await SelectAsync(ring, request, timeout, targets, 0, 0, targets.Count, 0, [], ct);
        }
        catch (IngestersUnavailableException) when (!ct.IsCancellationRequested)
        {
            return null;
        }
    }

    private static async Task<ISeriesSet> SelectAsync(RingClient ring, QueryRequest request, TimeSpan timeout, List<RingInstance> targets,
        int unreachable, int tolerated, int total, int rf, List<string> leftOut, CancellationToken ct)
    {
        var held = new HeldBytes();
        // Cancelled when the select ends, so a stream still receiving (an error elsewhere ended the merge) stops at once.
        using var streams = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var cursors = targets.ConvertAll(i =>
            new Cursor(i.Name, ring.Client(i).QueryStreamAsync(request, timeout, streams.Token).GetAsyncEnumerator(streams.Token), held,
                request.StartMs, request.EndMs));
        try
        {
            await Task.WhenAll(cursors.Select(c => c.AdvanceAsync(ct).AsTask()));
            var merged = new List<ISeries>();
            var group = new List<ISeries>(cursors.Count);
            var from = new List<Cursor>(cursors.Count);
            while (true)
            {
                Labels? smallest = null;
                foreach (var c in cursors)
                    if (c.Current is { } s && (smallest is null || s.Labels.CompareTo(smallest) < 0)) smallest = s.Labels;
                if (smallest is null) break;
                group.Clear();
                from.Clear();
                foreach (var c in cursors)
                    if (c.Current is { } s && s.Labels.Equals(smallest))
                    {
                        group.Add(s);
                        from.Add(c);
                    }
                merged.Add(group.Count == 1 ? group[0] : StreamedSeries.Merge(smallest, group.ToArray()));
                foreach (var c in from) await c.AdvanceAsync(ct);
            }
            var failed = cursors.FindAll(c => c.Error is not null);
            if (unreachable + failed.Count > tolerated)
                throw RingQueryable.Unavailable(unreachable + failed.Count, total, tolerated, rf, leftOut.Concat(failed.Select(c => c.Error!)));
            PeakBytes.Record(held.Peak);
            ReceivedBytes.Add(held.Received);
            return new ListSeriesSet(merged);
        }
        finally
        {
            await streams.CancelAsync();
            foreach (var c in cursors) await c.DisposeAsync();
        }
    }

    /// <summary>The bytes of the messages the cursors of one select hold, and the most they held at once.</summary>
    private sealed class HeldBytes
    {
        private long _now;
        public long Peak { get; private set; }
        public long Received { get; private set; }

        public void Take(long bytes)
        {
            _now += bytes;
            Received += bytes;
            if (_now > Peak) Peak = _now;
        }

        public void Release(long bytes) => _now -= bytes;
    }

    /// <summary>One ingester's stream: the series it is at, in the batch it holds, and the next batch being received.</summary>
    private sealed class Cursor(string ingester, IAsyncEnumerator<QueryStreamResponse> stream, HeldBytes held, long minT, long maxT) : IAsyncDisposable
    {
        private QueryStreamResponse? _batch;
        private long _batchBytes;
        private int _index;
        private ValueTask<bool>? _next;
        private bool _ended;

        public StreamedSeries? Current { get; private set; }
        public string? Error { get; private set; }

        public async ValueTask AdvanceAsync(CancellationToken ct)
        {
            Current = null;
            if (_batch is not null && ++_index < _batch.Series.Count)
            {
                Current = StreamedSeries.From(_batch.Series[_index], ingester, minT, maxT);
                return;
            }
            while (!_ended)
            {
                Release();
                if (!await ReceiveAsync(ct)) return;
                _batch = stream.Current;
                _batchBytes = _batch.CalculateSize();
                held.Take(_batchBytes);
                _index = 0;
                // Receive the next message while this one is merged.
                _next = stream.MoveNextAsync();
                if (_batch.Series.Count > 0)
                {
                    Current = StreamedSeries.From(_batch.Series[0], ingester, minT, maxT);
                    return;
                }
            }
        }

        private async ValueTask<bool> ReceiveAsync(CancellationToken ct)
        {
            try
            {
                var next = _next ?? stream.MoveNextAsync();
                _next = null;
                if (await next) return true;
            }
            catch (RpcException) when (ct.IsCancellationRequested)
            {
                // The query's deadline or the client's disconnect, not the ingester's fault: the caller maps it.
                throw new OperationCanceledException(ct);
            }
            catch (RpcException e)
            {
                Error = $"{ingester}: {e.StatusCode}: {e.Status.Detail}";
            }
            _ended = true;
            return false;
        }

        private void Release()
        {
            held.Release(_batchBytes);
            _batchBytes = 0;
            _batch = null;
        }

        public async ValueTask DisposeAsync()
        {
            Release();
            if (_next is { } pending)
            {
                _next = null;
                try { await pending; } catch (RpcException) { } catch (OperationCanceledException) { }
            }
            await stream.DisposeAsync();
        }
    }
}
