namespace Amphora.Services;

/// <summary>
/// Base class for services: subclasses implement <see cref="StartingAsync"/>, optionally a background
/// <see cref="RunningAsync"/> loop that ends when the token is cancelled, and <see cref="StoppingAsync"/>.
/// The state machine and failure propagation live here so every component behaves alike.
/// </summary>
public abstract class ServiceBase : IService
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _running = Task.CompletedTask;

    public abstract string Name { get; }
    public ServiceState State { get; private set; } = ServiceState.New;
    public Exception? Failure { get; private set; }

    protected virtual Task StartingAsync(CancellationToken ct) => Task.CompletedTask;
    protected virtual Task RunningAsync(CancellationToken stopping) => Task.CompletedTask;
    protected virtual Task StoppingAsync(CancellationToken ct) => Task.CompletedTask;

    public async Task StartAsync(CancellationToken ct)
    {
        if (State != ServiceState.New) throw new InvalidOperationException($"service {Name} was already started (state {State})");
        State = ServiceState.Starting;
        try
        {
            await StartingAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Failure = e;
            State = ServiceState.Failed;
            throw;
        }
        State = ServiceState.Running;
        _running = RunGuardedAsync();
    }

    private async Task RunGuardedAsync()
    {
        try
        {
            await RunningAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Failure = e;
            State = ServiceState.Failed;
        }
    }

    /// <summary>Completes when the background loop ends (normally only after stop was requested).</summary>
    public Task Running => _running;

    public async Task StopAsync(CancellationToken ct)
    {
        if (State is ServiceState.Terminated or ServiceState.New) { State = ServiceState.Terminated; return; }
        bool failed = State == ServiceState.Failed;
        State = ServiceState.Stopping;
        _stopping.Cancel();
        await _running.ConfigureAwait(false);
        try
        {
            await StoppingAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Failure ??= e;
            State = ServiceState.Failed;
            throw;
        }
        State = failed ? ServiceState.Failed : ServiceState.Terminated;
    }
}
