using System.Collections.Concurrent;
using System.Globalization;

namespace Amphora.Tenancy.Limits;

/// <summary>
/// Query limits of a workspace: concurrent queries (a lease per running query), the time range of a range query, the samples a
/// query may process (lowered per query by AMP's <c>max_samples_processed_error_threshold</c> parameter) and the timeout.
/// Thread-safe.
/// </summary>
public sealed class QueryLimiter(Overrides overrides, LimitMetrics? metrics = null)
{
    private readonly ConcurrentDictionary<string, StrongBox> _running = new(StringComparer.Ordinal);

    private sealed class StrongBox { public int Value; }

    /// <summary>Takes a slot for one query; null with a violation (429) when the workspace already runs its maximum.</summary>
    public IDisposable? TryEnter(string workspace, out LimitViolation? violation)
    {
        int max = overrides.For(workspace).MaxConcurrentQueries;
        var box = _running.GetOrAdd(workspace, _ => new StrongBox());
        if (Interlocked.Increment(ref box.Value) > max)
        {
            Interlocked.Decrement(ref box.Value);
            metrics?.Rejected(workspace, LimitErrors.MaxConcurrentQueries);
            violation = new LimitViolation(LimitErrors.MaxConcurrentQueries,
                $"the workspace already runs {max} concurrent queries, the limit; retry later or raise max_concurrent_queries in the overrides ({LimitErrors.MaxConcurrentQueries})",
                429, TimeSpan.FromSeconds(1));
            return null;
        }
        violation = null;
        return new Lease(box);
    }

    public int Running(string workspace) => _running.TryGetValue(workspace, out var b) ? Volatile.Read(ref b.Value) : 0;

    private sealed class Lease(StrongBox box) : IDisposable
    {
        private int _disposed;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref box.Value);
        }
    }

    /// <summary>Null when [start, end] is within the workspace's max query range; otherwise a 400 (bad_data) violation.</summary>
    public LimitViolation? CheckRange(string workspace, DateTimeOffset start, DateTimeOffset end)
    {
        var max = overrides.For(workspace).MaxQueryRange;
        if (end - start <= max) return null;
        metrics?.Rejected(workspace, LimitErrors.MaxQueryRange);
        return new LimitViolation(LimitErrors.MaxQueryRange,
            $"the query time range {(end - start).TotalDays:0.##}d exceeds the limit of {max.TotalDays:0.##}d; shorten it or raise max_query_range in the overrides ({LimitErrors.MaxQueryRange})",
            400);
    }

    /// <summary>
    /// The most samples the query may process: the workspace limit, or the lower <c>max_samples_processed_error_threshold</c>
    /// the request gave. Throws <see cref="FormatException"/> for a threshold that is not a positive integer.
    /// </summary>
    public long MaxSamples(string workspace, string? errorThreshold)
    {
        long limit = overrides.For(workspace).MaxSamplesProcessed;
        if (string.IsNullOrEmpty(errorThreshold)) return limit;
        if (!long.TryParse(errorThreshold, NumberStyles.None, CultureInfo.InvariantCulture, out long t) || t <= 0)
            throw new FormatException($"max_samples_processed_error_threshold: \"{errorThreshold}\" is not a positive integer");
        return Math.Min(limit, t);
    }

    /// <summary>The violation to report when a query processed more samples than allowed (422, execution error).</summary>
    public LimitViolation SamplesExceeded(string workspace, long limit)
    {
        metrics?.Rejected(workspace, LimitErrors.MaxSamplesProcessed);
        return new LimitViolation(LimitErrors.MaxSamplesProcessed,
            $"query processing would load too many samples into memory (limit {limit}); narrow the query or raise max_samples_processed in the overrides ({LimitErrors.MaxSamplesProcessed})",
            422);
    }

    public TimeSpan Timeout(string workspace) => overrides.For(workspace).QueryTimeout;

    public LimitViolation TimedOut(string workspace)
    {
        metrics?.Rejected(workspace, LimitErrors.QueryTimeout);
        var t = Timeout(workspace);
        return new LimitViolation(LimitErrors.QueryTimeout,
            $"query timed out after {t.TotalSeconds:0.###}s; narrow the query or raise query_timeout in the overrides ({LimitErrors.QueryTimeout})", 503);
    }
}
