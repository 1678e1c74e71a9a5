using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Chunks;

namespace Amphora.Tsdb;

public sealed partial class Head
{
    private sealed class HeadQuerier(Head head, long minT, long maxT) : IQuerier
    {
        public ValueTask<ISeriesSet> SelectAsync(bool sorted, SelectHints? hints, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            long from = Math.Max(minT, hints?.Start ?? minT), to = Math.Min(maxT, hints?.End ?? maxT);
            // In label order when sorted: the head's series already are, so the list needs no sort of its own.
            var selected = head.Select(matchers, sorted, ct);
            var list = new List<ISeries>(selected.Count);
            foreach (var s in selected)
            {
                List<ChunkData> chunks;
                (long, double)[] ooo;
                lock (s.Lock)
                {
                    if (!s.HasData || s.MaxT < from || s.MinT > to) continue;
                    (chunks, ooo) = s.Snapshot(from, to);
                }
                if (chunks.Count == 0 && ooo.Length == 0) continue;
                list.Add(new HeadSeries(s.Labels, chunks, ooo));
            }
            return ValueTask.FromResult<ISeriesSet>(new ListSeriesSet(list));
        }

        public ValueTask<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var values = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var s in InRange(matchers, ct))
                if (s.Labels.Get(name) is { Length: > 0 } v) values.Add(v);
            return ValueTask.FromResult<IReadOnlyList<string>>(values.ToList());
        }

        public ValueTask<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var names = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var s in InRange(matchers, ct))
                foreach (var l in s.Labels) names.Add(l.Name);
            return ValueTask.FromResult<IReadOnlyList<string>>(names.ToList());
        }

        /// <summary>The matching series with data in the querier's range; observes <paramref name="ct"/> while matching and here.</summary>
        private IEnumerable<MemSeries> InRange(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct)
        {
            int n = 0;
            foreach (var s in head.Select(matchers, ct))
            {
                if ((++n & 1023) == 0) ct.ThrowIfCancellationRequested();
                bool inRange;
                lock (s.Lock) inRange = s.HasData && s.MaxT >= minT && s.MinT <= maxT;
                if (inRange) yield return s;
            }
        }

        public void Dispose() { }
    }
}

/// <summary>A snapshot of a head series: its in-order chunks one after the other, merged with its out-of-order samples.</summary>
internal sealed class HeadSeries(Labels labels, List<ChunkData> chunks, (long T, double V)[] outOfOrder) : ISeries
{
    public Labels Labels { get; } = labels;

    public ISampleIterator Iterator(ISampleIterator? reuse = null)
    {
        ISampleIterator inOrder = new ChunkSequenceIterator(chunks);
        if (outOfOrder.Length == 0) return inOrder;
        var ooo = new ArraySampleIterator(outOfOrder.Select(s => s.T).ToArray(), outOfOrder.Select(s => s.V).ToArray(), outOfOrder.Length);
        return new MergeSampleIterator([inOrder, ooo]);
    }
}

/// <summary>Iterates consecutive, non-overlapping chunks (of any encoding) as one series; Seek skips whole chunks that end before
/// the time. Start timestamps come from the chunks' side arrays, by the position in the chunk.</summary>
public sealed class ChunkSequenceIterator(List<ChunkData> chunks) : ISampleIterator
{
    private int _index = -1;
    private ISampleIterator? _current;
    private Exception? _err;
    /// <summary>The position of the current sample in its chunk (-1 before its first) and what it is.</summary>
    private int _pos = -1;
    private Amphora.Storage.ValueType _state;

    public Exception? Err => _err;

    /// <summary>The chunks this iterator reads, in time order (an ingester sends those inside a query's range as they are).</summary>
    public IReadOnlyList<ChunkData> Chunks => chunks;

    public Amphora.Storage.ValueType Next()
    {
        while (_err is null)
        {
            if (_current is null)
            {
                if (++_index >= chunks.Count) return Amphora.Storage.ValueType.None;
                _current = ChunkIterators.For(chunks[_index]);
                _pos = -1;
            }
            var state = _current.Next();
            if (state != Amphora.Storage.ValueType.None)
            {
                _pos++;
                return _state = state;
            }
            _err = _current.Err;
            _current = null;
        }
        return Amphora.Storage.ValueType.None;
    }

    public Amphora.Storage.ValueType Seek(long t)
    {
        while (_err is null)
        {
            if (_current is null)
            {
                do { _index++; } while (_index < chunks.Count && chunks[_index].MaxT < t);
                if (_index >= chunks.Count) return Amphora.Storage.ValueType.None;
                _current = ChunkIterators.For(chunks[_index]);
                _pos = -1;
            }
            var state = chunks[_index].StartTimestamps is null ? _current.Seek(t) : SeekCounting(t);
            if (state != Amphora.Storage.ValueType.None) return _state = state;
            _err = _current.Err;
            _current = null;
        }
        return Amphora.Storage.ValueType.None;
    }

    /// <summary>Seek by steps within a chunk that has start timestamps, so the position stays known.</summary>
    private Amphora.Storage.ValueType SeekCounting(long t)
    {
        if (_pos >= 0 && _current!.AtT() >= t) return _state;
        Amphora.Storage.ValueType state;
        do
        {
            state = _current!.Next();
            if (state == Amphora.Storage.ValueType.None) return state;
            _pos++;
        } while (_current.AtT() < t);
        return state;
    }

    public (long T, double V) At() => _current!.At();
    public long AtT() => _current!.AtT();
    public long AtST() => chunks[_index].StartTimestamps is { } st ? st[_pos] : 0;

    /// <summary>The current integer histogram sample (after Next/Seek returned <see cref="Amphora.Storage.ValueType.Histogram"/>).</summary>
    public Amphora.Model.Histogram AtHistogram() => ((HistogramIterator)_current!).AtHistogram();

    public (long T, Amphora.Model.FloatHistogram H) AtFloatHistogram(Amphora.Model.FloatHistogram? into = null) => _current!.AtFloatHistogram(into);

    /// <summary>The iterator of the current chunk (a <see cref="FloatHistogramIterator"/> on a float histogram sample).</summary>
    public ISampleIterator? Current => _current;
}
