namespace Amphora.Services;

/// <summary>The lifecycle phases of a component, in order. A failure in any phase moves it to <see cref="Failed"/>.</summary>
public enum ServiceState { New, Starting, Running, Stopping, Terminated, Failed }

/// <summary>
/// A component with one lifecycle: starting → running → stopping. The executable composes services from a module list;
/// <c>--target=all</c> runs them all in one process. Start failures propagate to the caller; a failure while running is
/// reported through <see cref="Failure"/> and stops the process.
/// </summary>
public interface IService
{
    /// <summary>A short stable name ("distributor", "ingester", ...), used in logs.</summary>
    string Name { get; }

    ServiceState State { get; }

    /// <summary>The exception that moved the service to <see cref="ServiceState.Failed"/>, if any.</summary>
    Exception? Failure { get; }

    /// <summary>Acquires resources (opens the WAL, replays it, connects to peers). Returns once the service can serve.</summary>
    Task StartAsync(CancellationToken ct);

    /// <summary>Releases resources after in-flight work finished (flushes and closes the WAL and heads).</summary>
    Task StopAsync(CancellationToken ct);
}
