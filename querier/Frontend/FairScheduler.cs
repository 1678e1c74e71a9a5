namespace Amphora.Querier.Frontend;

/// <summary>
/// Runs queries on a fixed number of slots, taking turns between workspaces: each workspace has its own queue, and a
/// freed slot goes to the next workspace in the rotation that has work waiting, so one workspace's flood of queries
/// delays another's by at most one query per slot, not by the whole flood. A workspace may have at most
/// <c>maxQueuedPerWorkspace</c> requests waiting (the pieces of one split query count once); more are refused
/// (<see cref="QueueFullException"/>).
/// </summary>
public sealed class FairScheduler
{
    private readonly object _lock = new();
    private readonly Dictionary<string, Queue<Entry>> _queues = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _rotation = new();
    private readonly int _slots;
    private readonly int _maxQueuedPerWorkspace;
    private int _running;
    private int _queued;

    public FairScheduler(int slots, int maxQueuedPerWorkspace)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueuedPerWorkspace, 1);
        _slots = slots;
        _maxQueuedPerWorkspace = maxQueuedPerWorkspace;
    }

    /// <summary>Queries waiting for a slot, over all workspaces.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Queries holding a slot.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Waits for a slot in <paramref name="workspace"/>'s turn, runs <paramref name="work"/> on it and frees it.</summary>
    /// <param name="request">The request this work is a piece of (its pieces count once against the queue limit); null: its own.</param>
    public async Task<T> RunAsync<T>(string workspace, Func<Task<T>> work, CancellationToken ct, object? request = null)
    {
        var entry = new Entry(request ?? new object());
        bool started;
        lock (_lock)
        {
            started = _running < _slots && _queued == 0;
            if (started) _running++;
            else
            {
                if (!_queues.TryGetValue(workspace, out var queue)) _queues[workspace] = queue = new Queue<Entry>();
                if (!queue.Any(e => e.Request == entry.Request && !e.Abandoned) &&
                    queue.Where(e => !e.Abandoned).Select(e => e.Request).Distinct().Count() >= _maxQueuedPerWorkspace)
                    throw new QueueFullException(workspace, _maxQueuedPerWorkspace);
                if (queue.Count == 0) _rotation.AddLast(workspace);
                queue.Enqueue(entry);
                _queued++;
            }
        }
        if (!started)
        {
            using (ct.Register(static e => ((Entry)e!).Abandon(), entry))
            {
                try
                {
                    await entry.Granted.Task.WaitAsync(ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Either the cancellation or the grant wins the entry; if the grant did, the slot is ours to pass on.
                    entry.Abandon();
                    if (entry.Granted.Task.IsCompletedSuccessfully) Release();
                    throw;
                }
            }
        }
        try
        {
            return await work().ConfigureAwait(false);
        }
        finally
        {
            Release();
        }
    }

    /// <summary>Hands the freed slot to the next workspace in the rotation with a live entry, or frees it.</summary>
    private void Release()
    {
        while (true)
        {
            Entry? next = null;
            lock (_lock)
            {
                while (_rotation.First is { } node)
                {
                    string workspace = node.Value;
                    var queue = _queues[workspace];
                    var candidate = queue.Dequeue();
                    _queued--;
                    _rotation.RemoveFirst();
                    if (queue.Count > 0) _rotation.AddLast(workspace);
                    else _queues.Remove(workspace);
                    if (!candidate.Abandoned)
                    {
                        next = candidate;
                        break;
                    }
                }
                if (next is null)
                {
                    _running--;
                    return;
                }
            }
            // The slot moves to the next entry; if that entry was cancelled in between, keep handing it on.
            if (next.Granted.TrySetResult()) return;
        }
    }

    private sealed class Entry(object request)
    {
        private int _abandoned;
        public object Request { get; } = request;
        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Abandoned => Volatile.Read(ref _abandoned) == 1;

        public void Abandon()
        {
            Volatile.Write(ref _abandoned, 1);
            Granted.TrySetCanceled();
        }
    }
}

/// <summary>A workspace already has the most queries waiting that the frontend queues for one workspace.</summary>
public sealed class QueueFullException(string workspace, int limit)
    : Exception($"workspace {workspace} already has {limit} queries waiting for the query frontend's slots " +
                "(the limit is --query-frontend.max-queued-per-workspace)")
{
    public string Workspace { get; } = workspace;
    public int Limit { get; } = limit;
}
