using Microsoft.Extensions.Logging;

namespace Amphora.BenchRunner;

/// <summary>Keeps the errors a component logs (with their exception's message) so the benchmark can report them.</summary>
public sealed class CollectingLogger<T> : ILogger<T>
{
    private readonly List<string> _errors = new();

    public IReadOnlyList<string> Errors
    {
        get { lock (_errors) return _errors.ToList(); }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        string message = formatter(state, exception) + (exception is null ? "" : $": {exception.GetType().Name}: {exception.Message}");
        lock (_errors) _errors.Add(message);
    }
}
