using System.Collections.Concurrent;

namespace Amphora.Tenancy.Auth;

/// <summary>
/// Remembers SigV4 signatures until they could no longer pass the clock-skew check, so each is accepted once. A signature is
/// released again when its request had no effect (429 or 5xx), so that a client retrying the identical request within the
/// same second (Prometheus signs with second precision) is not refused. Thread-safe.
/// </summary>
public sealed class ReplayCache(TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private long _nextSweepTicks;

    public int Count => _seen.Count;

    /// <summary>Records a first use; false when the signature was already used and has not expired.</summary>
    public bool TryUse(string signature, DateTimeOffset expires)
    {
        var now = _time.GetUtcNow();
        SweepIfDue(now);
        while (true)
        {
            if (_seen.TryAdd(signature, expires)) return true;
            if (!_seen.TryGetValue(signature, out var existing)) continue;
            if (existing > now) return false;
            if (_seen.TryUpdate(signature, expires, existing)) return true;
        }
    }

    public void Release(string signature) => _seen.TryRemove(signature, out _);

    private void SweepIfDue(DateTimeOffset now)
    {
        long next = Interlocked.Read(ref _nextSweepTicks);
        if (now.UtcTicks < next) return;
        if (Interlocked.CompareExchange(ref _nextSweepTicks, now.UtcTicks + TimeSpan.TicksPerSecond * 30, next) != next) return;
        foreach (var (sig, expires) in _seen)
            if (expires <= now) _seen.TryRemove(new KeyValuePair<string, DateTimeOffset>(sig, expires));
    }
}
