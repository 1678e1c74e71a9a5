using Amphora.Server.Config;
using Amphora.Server.Logging;

namespace Amphora.Server;

public static partial class AmphoraHost
{
    private static void ConfigureLogging(ILoggingBuilder logging, AmphoraConfig config)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(config.LogLevel switch
        {
            "debug" => LogLevel.Debug,
            "warn" => LogLevel.Warning,
            "error" => LogLevel.Error,
            _ => LogLevel.Information,
        });
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        logging.AddConsole(o => o.FormatterName = ProcessLogFormatter.FormatterName);
        logging.AddConsoleFormatter<ProcessLogFormatter, ProcessLogFormatterOptions>(o =>
        {
            o.Target = config.Target;
            o.Instance = config.InstanceName;
            o.Json = config.LogFormat == "json";
            o.TraceIds = config.TracingOtlpEndpoint is not null;
        });
    }
}
