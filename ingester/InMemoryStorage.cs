using System.Collections.Concurrent;
using Amphora.Model;
using Amphora.Storage;
using IQueryable = Amphora.Storage.IQueryable;

namespace Amphora.Ingester;

/// <summary>
/// Samples kept in memory per workspace, behind the storage contracts (appender, querier, series sets with iterators).
/// It applies the same acceptance rules as the TSDB head — out-of-order window, duplicate timestamps — but keeps plain
/// arrays and no WAL, so it is only for tests and as the reference the head is checked against.
/// </summary>
public sealed class InMemoryStorage(TimeSpan outOfOrderWindow) : IWorkspaceAppendable, IWorkspaceQueryable
{
    private readonly ConcurrentDictionary<string, Workspace> _workspaces = new(StringComparer.Ordinal);
    private readonly long _windowMs = (long)outOfOrderWindow.TotalMilliseconds;

    public IAppender Appender(string workspace) => new MemoryAppender(Get(workspace), _windowMs);

    public IQueryable ForWorkspace(string workspace) => Get(workspace);

    public int ActiveSeries(string workspace) => _workspaces.TryGetValue(workspace, out var w) ? w.SeriesCount : 0;

    /// <summary>Whether the workspace already holds this series.</summary>
    public bool Has(string workspace, Labels labels) => _workspaces.TryGetValue(workspace, out var w) && w.Find(labels) is not null;

    /// <summary>Forgets every sample of a workspace (workspace deletion).</summary>
    public void Drop(string workspace) => _workspaces.TryRemove(workspace, out _);

    private Workspace Get(string workspace) => _workspaces.GetOrAdd(workspace, static _ => new Workspace());

    private sealed class MemorySeries(Labels labels)
    {
        public readonly Labels Labels = labels;
        public long[] T = new long[16];
        public double[] V = new double[16];
        public int Count;

        public long MaxT => Count == 0 ? long.MinValue : T[Count - 1];

        /// <summary>Checks a sample against what is stored. Caller holds the series lock.</summary>
        public AppendStatus Check(long t, double v, long windowMs, out bool duplicateOfSame)
        {
            duplicateOfSame = false;
            if (Count == 0 || t > MaxT) return AppendStatus.Ok;
            int i = Array.BinarySearch(T, 0, Count, t);
            if (i >= 0)
            {
                if (BitConverter.DoubleToInt64Bits(V[i]) == BitConverter.DoubleToInt64Bits(v))
                {
                    duplicateOfSame = true;
                    return AppendStatus.Ok;
                }
                return AppendStatus.DuplicateTimestamp;
            }
            return t >= MaxT - windowMs && windowMs > 0 ? AppendStatus.Ok : AppendStatus.OutOfOrder;
        }

        public void Insert(long t, double v)
        {
            if (Count == T.Length)
            {
                Array.Resize(ref T, T.Length * 2);
                Array.Resize(ref V, V.Length * 2);
            }
            int i = Count == 0 || t > T[Count - 1] ? Count : ~Array.BinarySearch(T, 0, Count, t);
            if (i < Count)
            {
                Array.Copy(T, i, T, i + 1, Count - i);
                Array.Copy(V, i, V, i + 1, Count - i);
            }
            T[i] = t;
            V[i] = v;
            Count++;
        }
    }

    private sealed class Workspace : IQueryable
    {
        private readonly ConcurrentDictionary<Labels, MemorySeries> _series = new();

        public int SeriesCount => _series.Count;

        public MemorySeries? Find(Labels labels) => _series.TryGetValue(labels, out var s) ? s : null;

        public MemorySeries GetOrCreate(Labels labels) => _series.GetOrAdd(labels, static l => new MemorySeries(l));

        public IQuerier Querier(long minT, long maxT) => new MemoryQuerier(this, minT, maxT);

        public IEnumerable<MemorySeries> All => _series.Values;
    }

    private sealed class MemoryAppender(Workspace workspace, long windowMs) : IAppender
    {
        private readonly List<(Labels Labels, long T, double V)> _pending = new();

        public AppendStatus Append(ref ulong seriesRef, Labels labels, long t, double v)
        {
            var series = workspace.Find(labels);
            if (series is not null)
            {
                lock (series)
                {
                    var status = series.Check(t, v, windowMs, out bool same);
                    if (status != AppendStatus.Ok) return status;
                    if (same) return AppendStatus.Ok;
                }
            }
            _pending.Add((labels, t, v));
            return AppendStatus.Ok;
        }

        public void UpdateMetadata(MetricMetadata metadata) { }

        public ValueTask CommitAsync(CancellationToken ct = default)
        {
            foreach (var (labels, t, v) in _pending)
            {
                var series = workspace.GetOrCreate(labels);
                lock (series)
                {
                    // Re-checked: another request may have written the same series since Append.
                    if (series.Check(t, v, windowMs, out bool same) == AppendStatus.Ok && !same) series.Insert(t, v);
                }
            }
            _pending.Clear();
            return ValueTask.CompletedTask;
        }

        public void Rollback() => _pending.Clear();
    }

    private sealed class MemoryQuerier(Workspace workspace, long minT, long maxT) : IQuerier
    {
        public ValueTask<ISeriesSet> SelectAsync(bool sorted, SelectHints? hints, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var result = new List<ISeries>();
            foreach (var series in Matching(matchers))
            {
                long[] t;
                double[] v;
                lock (series)
                {
                    int from = LowerBound(series.T, series.Count, minT);
                    int to = LowerBound(series.T, series.Count, maxT == long.MaxValue ? long.MaxValue : maxT + 1);
                    if (to <= from) continue;
                    t = series.T[from..to];
                    v = series.V[from..to];
                }
                result.Add(new ArraySeries(series.Labels, t, v));
            }
            if (sorted) result.Sort(static (a, b) => a.Labels.CompareTo(b.Labels));
            return ValueTask.FromResult<ISeriesSet>(new ListSeriesSet(result));
        }

        public ValueTask<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var values = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var s in Matching(matchers))
                if (s.Labels.Get(name) is { Length: > 0 } value && HasSamplesInRange(s)) values.Add(value);
            return ValueTask.FromResult<IReadOnlyList<string>>(values.ToList());
        }

        public ValueTask<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var names = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var s in Matching(matchers))
                if (HasSamplesInRange(s))
                    foreach (var l in s.Labels) names.Add(l.Name);
            return ValueTask.FromResult<IReadOnlyList<string>>(names.ToList());
        }

        private IEnumerable<MemorySeries> Matching(IReadOnlyList<LabelMatcher> matchers)
        {
            foreach (var s in workspace.All)
            {
                bool all = true;
                foreach (var m in matchers)
                {
                    if (!m.Matches(s.Labels.Get(m.Name))) { all = false; break; }
                }
                if (all) yield return s;
            }
        }

        private bool HasSamplesInRange(MemorySeries s)
        {
            lock (s)
            {
                int from = LowerBound(s.T, s.Count, minT);
                return from < s.Count && s.T[from] <= maxT;
            }
        }

        private static int LowerBound(long[] t, int count, long value)
        {
            int lo = 0, hi = count;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (t[mid] < value) lo = mid + 1; else hi = mid;
            }
            return lo;
        }

        public void Dispose() { }
    }
}
