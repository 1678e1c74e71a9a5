using Amphora.Operator.Api;
using k8s;
using Microsoft.Extensions.Logging;

namespace Amphora.Operator.Kube;

/// <summary>What a reconcile asks for next.</summary>
public readonly record struct ReconcileResult(TimeSpan? RequeueAfter, bool Backoff)
{
    /// <summary>Converged; nothing until the object changes.</summary>
    public static readonly ReconcileResult Done = new(null, false);

    /// <summary>Waiting on something expected to finish (a workspace still CREATING): look again after a fixed delay.</summary>
    public static ReconcileResult After(TimeSpan delay) => new(delay, false);

    /// <summary>Blocked on something outside the object (a missing workspace, an unsupported API): retry with the key's backoff.</summary>
    public static readonly ReconcileResult RetryWithBackoff = new(null, true);
}

/// <summary>Reconciles one kind; idempotent: called again with the same object it changes nothing.</summary>
public interface IReconciler<T> where T : class, IAmphoraResource
{
    string Plural { get; }
    Task<ReconcileResult> ReconcileAsync(T resource, CancellationToken ct);
}

/// <summary>
/// Runs one kind: its <see cref="ResourceWatcher{T}"/> feeds a <see cref="WorkQueue"/>, one worker takes keys and calls the
/// reconciler with the cached object. A reconcile that throws is retried with the key's exponential backoff, and the
/// failure and the delay are recorded as a Warning event, so a broken resource never hot-loops and its backoff is visible.
/// </summary>
public sealed partial class Controller<T> where T : class, IAmphoraResource
{
    private readonly IReconciler<T> _reconciler;
    private readonly EventRecorder _events;
    private readonly ILogger _logger;

    public Controller(IKubernetes client, IReconciler<T> reconciler, string? watchNamespace, EventRecorder events, WorkQueue queue, ILogger logger)
    {
        _reconciler = reconciler;
        _events = events;
        _logger = logger;
        Queue = queue;
        Watcher = new ResourceWatcher<T>(client, reconciler.Plural, watchNamespace, logger);
        Watcher.Changed += Queue.Add;
    }

    public ResourceWatcher<T> Watcher { get; }
    public WorkQueue Queue { get; }

    public Task RunAsync(CancellationToken ct) => Task.WhenAll(Watcher.RunAsync(ct), WorkAsync(ct));

    private async Task WorkAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            string key;
            try
            {
                key = await Queue.TakeAsync(ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                if (!Watcher.Cache.TryGetValue(key, out var resource)) continue;
                var result = await _reconciler.ReconcileAsync(resource, ct);
                if (result.Backoff)
                {
                    var wait = Queue.AddWithBackoff(key);
                    var ready = resource.BaseStatus?.Conditions.Find(c => c.Type == Conditions.Ready);
                    await _events.WarningAsync(resource, "BackOff",
                        $"{ready?.Reason}: {ready?.Message}; retrying in {wait.TotalSeconds:0.###}s");
                    continue;
                }
                Queue.Forget(key);
                if (result.RequeueAfter is { } after) Queue.AddAfter(key, after);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                var delay = Queue.AddWithBackoff(key);
                LogReconcileFailed(e, _reconciler.Plural, key, delay.TotalSeconds);
                if (Watcher.Cache.TryGetValue(key, out var failed))
                    await _events.WarningAsync(failed, "ReconcileFailed", $"{Describe(e)}; retrying in {delay.TotalSeconds:0.###}s");
            }
            finally
            {
                Queue.Done(key);
            }
        }
    }

    private static string Describe(Exception e) => e switch
    {
        k8s.Autorest.HttpOperationException h => $"the API server answered {(int)h.Response.StatusCode}: {h.Response.Content}",
        HttpRequestException h => "a request failed: " + h.Message,
        _ => e.Message,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "reconciling {Plural} {Key} failed; retrying in {Seconds}s")]
    private partial void LogReconcileFailed(Exception e, string plural, string key, double seconds);
}
