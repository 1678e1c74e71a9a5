using System.Collections.Concurrent;

namespace Amphora.Tenancy.Limits;

/// <summary>
/// Per-workspace token buckets of samples: refilled at <see cref="Limits.IngestionRate"/> per second up to
/// <see cref="Limits.IngestionBurstSize"/>. A request is admitted whole or refused whole (nothing is consumed when refused),
/// with how long to wait before the same request fits (for <c>Retry-After</c>). Rate changes in the overrides apply at once.
/// With several distributors (<see cref="Distributors"/>, the "global" strategy) each refills at its share of the rate, the
/// rate ÷ the distributors, so the cluster admits the workspace's rate; the burst is each distributor's own, as in Mimir.
/// Thread-safe.
/// </summary>
public sealed class IngestionRateLimiter(Overrides overrides, LimitMetrics? metrics = null, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>How many distributors share each workspace's rate (1: this one admits all of it).</summary>
    public Func<int> Distributors { get; set; } = () => 1;

    private sealed class Bucket
    {
        public double Tokens;
        public long LastTimestamp;
    }

    /// <summary>Null when admitted; otherwise a 429 violation with the retry-after duration.</summary>
    public LimitViolation? Admit(string workspace, long samples)
    {
        var limits = overrides.For(workspace);
        int distributors = Math.Max(1, Distributors());
        double rate = limits.IngestionRate / distributors;
        long now = _time.GetTimestamp();
        var bucket = _buckets.GetOrAdd(workspace, _ => new Bucket { Tokens = limits.IngestionBurstSize, LastTimestamp = now });
        lock (bucket)
        {
            double elapsed = _time.GetElapsedTime(bucket.LastTimestamp, now).TotalSeconds;
            if (elapsed > 0)
            {
                bucket.Tokens = Math.Min(limits.IngestionBurstSize, bucket.Tokens + elapsed * rate);
                bucket.LastTimestamp = now;
            }
            bucket.Tokens = Math.Min(bucket.Tokens, limits.IngestionBurstSize);
            if (samples > limits.IngestionBurstSize)
            {
                metrics?.Rejected(workspace, LimitErrors.IngestionBurst, samples);
                return new LimitViolation(LimitErrors.IngestionBurst,
                    $"the request has {samples} samples, more than the ingestion burst size of {limits.IngestionBurstSize}; send smaller requests or raise ingestion_burst_size in the overrides ({LimitErrors.IngestionBurst})",
                    429, TimeSpan.FromSeconds(1));
            }
            if (bucket.Tokens >= samples)
            {
                bucket.Tokens -= samples;
                return null;
            }
            // Clamped: a tiny rate (or one shared by many distributors) must give a 429, not a TimeSpan overflow.
            var wait = TimeSpan.FromSeconds(Math.Clamp((samples - bucket.Tokens) / rate, 0.001, TimeSpan.FromDays(1).TotalSeconds));
            metrics?.Rejected(workspace, LimitErrors.IngestionRate, samples);
            string share = distributors == 1 ? "" : $" (this distributor admits its share, {rate:0.###} samples/s, of the {distributors} distributors serving)";
            return new LimitViolation(LimitErrors.IngestionRate,
                $"the ingestion rate limit of {limits.IngestionRate} samples/s with burst {limits.IngestionBurstSize} is reached{share}; the request of {samples} samples fits again in {wait.TotalSeconds:0.###} s; raise ingestion_rate in the overrides ({LimitErrors.IngestionRate})",
                429, wait);
        }
    }

    /// <summary>Seconds to put in a <c>Retry-After</c> header (whole seconds, at least 1).</summary>
    public static string RetryAfterHeader(TimeSpan wait) => ((long)Math.Ceiling(Math.Max(wait.TotalSeconds, 1))).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
