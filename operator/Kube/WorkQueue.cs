namespace Amphora.Operator.Kube;

/// <summary>
/// A work queue of object keys (<c>namespace/name</c>) as controller-runtime has it: a key queued several times is
/// processed once, a key being processed is not handed to a second worker, a key added while processed runs again after,
/// and a key can be delayed. Failures back off exponentially per key (<see cref="Backoff"/>); success forgets the count.
/// </summary>
public sealed class WorkQueue
{
    private readonly object _lock = new();
    private readonly Queue<string> _ready = new();
    private readonly HashSet<string> _queued = new(StringComparer.Ordinal);
    private readonly HashSet<string> _processing = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirtyWhileProcessing = new(StringComparer.Ordinal);
    private readonly PriorityQueue<string, DateTimeOffset> _delayed = new();
    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _signal = new(0);
    private readonly TimeProvider _time;

    public WorkQueue(TimeSpan baseDelay, TimeSpan maxDelay, TimeProvider? time = null)
    {
        BaseDelay = baseDelay;
        MaxDelay = maxDelay;
        _time = time ?? TimeProvider.System;
    }

    public TimeSpan BaseDelay { get; }
    public TimeSpan MaxDelay { get; }

    public void Add(string key)
    {
        lock (_lock)
        {
            if (_processing.Contains(key)) { _dirtyWhileProcessing.Add(key); return; }
            if (!_queued.Add(key)) return;
            _ready.Enqueue(key);
        }
        _signal.Release();
    }

    public void AddAfter(string key, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero) { Add(key); return; }
        lock (_lock) _delayed.Enqueue(key, _time.GetUtcNow() + delay);
        _signal.Release();
    }

    /// <summary>Requeues after this key's next backoff delay (base × 2^failures, at most max) and returns that delay.</summary>
    public TimeSpan AddWithBackoff(string key)
    {
        TimeSpan delay;
        lock (_lock)
        {
            int n = _failures.GetValueOrDefault(key);
            _failures[key] = n + 1;
            delay = Backoff(n);
        }
        AddAfter(key, delay);
        return delay;
    }

    public TimeSpan Backoff(int failures)
    {
        double ms = BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 30));
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxDelay.TotalMilliseconds));
    }

    /// <summary>Stops the backoff of a key after it was reconciled.</summary>
    public void Forget(string key)
    {
        lock (_lock) _failures.Remove(key);
    }

    /// <summary>The next key to process; call <see cref="Done"/> with it afterwards.</summary>
    public async Task<string> TakeAsync(CancellationToken ct)
    {
        while (true)
        {
            TimeSpan? wait;
            lock (_lock)
            {
                var now = _time.GetUtcNow();
                while (_delayed.TryPeek(out var k, out var due) && due <= now)
                {
                    _delayed.Dequeue();
                    if (_processing.Contains(k)) _dirtyWhileProcessing.Add(k);
                    else if (_queued.Add(k)) _ready.Enqueue(k);
                }
                if (_ready.TryDequeue(out var key))
                {
                    _queued.Remove(key);
                    _processing.Add(key);
                    return key;
                }
                wait = _delayed.TryPeek(out _, out var next) ? next - now : null;
            }
            if (wait is { } w) await _signal.WaitAsync(w < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : w, ct);
            else await _signal.WaitAsync(ct);
        }
    }

    public void Done(string key)
    {
        bool again;
        lock (_lock)
        {
            _processing.Remove(key);
            again = _dirtyWhileProcessing.Remove(key);
        }
        if (again) Add(key);
    }
}
