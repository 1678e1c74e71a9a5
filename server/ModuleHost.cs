using Amphora.Services;

namespace Amphora.Server;

/// <summary>
/// Starts the modules' services in dependency order when the host starts (before Kestrel accepts requests) and stops them in
/// reverse order after Kestrel has drained in-flight requests, so a SIGTERM never cuts a write between WAL and acknowledgement.
/// </summary>
public sealed partial class ModuleHost(Modules modules, ILogger<ModuleHost> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        foreach (var service in modules.Services)
        {
            LogStarting(service.Name);
            await service.StartAsync(ct);
        }
        modules.MarkReady();
        LogReady(modules.Target, string.Join(", ", modules.Services.Select(s => s.Name)));
    }

    public async Task StopAsync(CancellationToken ct)
    {
        modules.MarkNotReady(Modules.ShuttingDown);
        for (int i = modules.Services.Count - 1; i >= 0; i--)
        {
            var service = modules.Services[i];
            try
            {
                await service.StopAsync(ct);
                LogStopped(service.Name);
            }
            catch (Exception e)
            {
                LogStopFailed(e, service.Name);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "starting {Service}")]
    private partial void LogStarting(string service);

    [LoggerMessage(Level = LogLevel.Information, Message = "amphora ready: target {Target}, services {Services}")]
    private partial void LogReady(string target, string services);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopped {Service}")]
    private partial void LogStopped(string service);

    [LoggerMessage(Level = LogLevel.Error, Message = "stopping {Service} failed")]
    private partial void LogStopFailed(Exception e, string service);
}
