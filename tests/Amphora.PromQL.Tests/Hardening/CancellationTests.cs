using System.Diagnostics;
using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.Storage;
using Xunit;
using IQueryable = Amphora.Storage.IQueryable;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.PromQL.Tests.Hardening;

/// <summary>
/// Issue 13, finding 6: the query timeout and a client's disconnect reach every loop of the evaluator, subquery steps
/// included, so a cancelled query stops its work instead of running for minutes after the client left.
/// </summary>
public sealed class CancellationTests
{
    [Fact]
    public async Task An_expensive_subquery_with_a_short_timeout_fails_with_a_timeout_error_promptly()
    {
        var storage = new CountingStorage(series: 2000, onFirstSample: null);
        var engine = new PromQLEngine(new EngineOptions { Timeout = TimeSpan.FromMilliseconds(200) });
        var watch = Stopwatch.StartNew();
        // 86,400 steps of a sum over 2,000 series: minutes of work if the timeout were not observed inside the steps.
        var e = await Assert.ThrowsAsync<PromQLException>(() =>
            engine.InstantQuery(storage, "max_over_time(sum by (job) (up)[1d:1s])", 86_400_000).ExecAsync(default));
        Assert.Equal(PromQLErrorType.Timeout, e.ErrorType);
        Assert.Contains("timed out", e.Message);
        // Generous for a loaded 2-core machine; the point is seconds, not minutes.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"the timed-out query ran {watch.Elapsed}");
    }

    [Fact]
    public async Task A_cancelled_request_stops_inside_the_subquery_steps()
    {
        using var cts = new CancellationTokenSource();
        // The client leaves while the subquery's selector reads its first series.
        var storage = new CountingStorage(series: 1000, onFirstSample: cts.Cancel);
        var engine = new PromQLEngine(new EngineOptions());
        var e = await Assert.ThrowsAsync<PromQLException>(() =>
            engine.InstantQuery(storage, "max_over_time(sum(up)[1d:1s])", 86_400_000).ExecAsync(cts.Token));
        Assert.Equal(PromQLErrorType.Canceled, e.ErrorType);
        // The evaluator noticed before it went on to the next series: one iterator was read, not a thousand.
        Assert.Equal(1, storage.IteratorsRead);
    }

    [Fact]
    public async Task A_cancelled_range_query_stops_between_steps_of_a_long_binary_chain()
    {
        using var cts = new CancellationTokenSource();
        var storage = new CountingStorage(series: 10, onFirstSample: cts.Cancel);
        var engine = new PromQLEngine(new EngineOptions());
        string chain = string.Join(" + ", Enumerable.Repeat("up", 5000));
        var e = await Assert.ThrowsAsync<PromQLException>(() =>
            engine.RangeQuery(storage, chain, 0, 86_400_000, 60_000).ExecAsync(cts.Token));
        Assert.Equal(PromQLErrorType.Canceled, e.ErrorType);
        Assert.Equal(1, storage.IteratorsRead);
    }

    /// <summary>Series up{job="jN"} with a sample every 15s over a day; counts the iterators that were read.</summary>
    private sealed class CountingStorage(int series, Action? onFirstSample) : IQueryable, IQuerier
    {
        private int _iteratorsRead;
        public int IteratorsRead => _iteratorsRead;

        public IQuerier Querier(long minT, long maxT) => this;

        public ValueTask<ISeriesSet> SelectAsync(bool sorted, SelectHints? hints, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var list = new List<ISeries>();
            for (int i = 0; i < series; i++)
            {
                var labels = Labels.FromStrings("__name__", "up", "job", "j" + (i % 10), "instance", "i" + i);
                if (matchers.All(m => m.Matches(labels.Get(m.Name)))) list.Add(new Series(labels, this));
            }
            return ValueTask.FromResult<ISeriesSet>(new ListSeriesSet(list));
        }

        public ValueTask<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default) =>
            ValueTask.FromResult<IReadOnlyList<string>>([]);

        public ValueTask<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default) =>
            ValueTask.FromResult<IReadOnlyList<string>>([]);

        public void Dispose() { }

        private void Read()
        {
            if (Interlocked.Increment(ref _iteratorsRead) == 1) onFirstSample?.Invoke();
        }

        private sealed class Series(Labels labels, CountingStorage storage) : ISeries
        {
            public Labels Labels => labels;
            public ISampleIterator Iterator(ISampleIterator? reuse = null) => new Iterator(storage);
        }

        private sealed class Iterator(CountingStorage storage) : ISampleIterator
        {
            private long _t = -15_000;
            private bool _read;

            public ValueType Next()
            {
                if (!_read)
                {
                    _read = true;
                    storage.Read();
                }
                _t += 15_000;
                return _t <= 86_400_000 ? ValueType.Float : ValueType.None;
            }

            public ValueType Seek(long t)
            {
                while (_t < t)
                    if (Next() == ValueType.None) return ValueType.None;
                return _t <= 86_400_000 ? ValueType.Float : ValueType.None;
            }

            public (long T, double V) At() => (_t, 1);
            public long AtT() => _t;
            public Exception? Err => null;
        }
    }
}
