using System.Net;
using Amphora.Querier.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Amphora.Querier.Tests.Support;

/// <summary>
/// The Prometheus API as both <c>--target=all</c> and <c>--target=querier</c> serve it (<see cref="PrometheusApi.MapPrometheusApi"/>
/// over a <see cref="QuerierService"/>), on a loopback Kestrel port; records the errors the API logged.
/// </summary>
public sealed class ApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ApiServer(WebApplication app, QuerierService querier, Uri address, LogRecorder logs)
    {
        _app = app;
        Querier = querier;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(1) };
        Logs = logs;
    }

    public QuerierService Querier { get; }
    public HttpClient Http { get; }
    public LogRecorder Logs { get; }

    public static async Task<ApiServer> StartAsync(MemoryStorage storage, QuerierOptions? options = null,
        Amphora.Storage.IWorkspaceExemplars? exemplars = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var logs = new LogRecorder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        var app = builder.Build();
        var querier = new QuerierService(storage, storage, options ?? new QuerierOptions()) { Exemplars = exemplars };
        app.MapPrometheusApi(querier);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ApiServer(app, querier, new Uri(address), logs);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.DisposeAsync();
    }

    /// <summary>Error-level log lines written while serving.</summary>
    public sealed class LogRecorder : ILoggerProvider
    {
        private readonly List<string> _errors = new();

        public IReadOnlyList<string> Errors
        {
            get { lock (_errors) return _errors.ToList(); }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
        public void Dispose() { }

        private sealed class Logger(LogRecorder recorder, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (logLevel < LogLevel.Error) return;
                lock (recorder._errors) recorder._errors.Add($"{category}: {formatter(state, exception)} {exception?.GetType().Name}");
            }
        }
    }
}
