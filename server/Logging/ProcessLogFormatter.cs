using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Amphora.Server.Logging;

/// <summary>Who this process is in a deployment, written on every log line so that interleaved logs stay readable.</summary>
public sealed class ProcessLogFormatterOptions : ConsoleFormatterOptions
{
    /// <summary>The component(s) the process runs: all, distributor, ingester, querier or compactor.</summary>
    public string Target { get; set; } = "all";
    /// <summary>This process among its target's replicas, e.g. <c>ingester-1</c>.</summary>
    public string Instance { get; set; } = "";
    /// <summary>One JSON object per line instead of text.</summary>
    public bool Json { get; set; }
    /// <summary>Adds the trace id of the request being served (when tracing is on and the line is written in one).</summary>
    public bool TraceIds { get; set; }
}

/// <summary>
/// The console format of every amphora process. Text: <c>2026-01-02T03:04:05.678Z info ingester/ingester-1 Category: message</c>
/// (the exception on the following lines). JSON: <c>time</c>, <c>level</c>, <c>target</c>, <c>instance</c>, <c>category</c>,
/// <c>message</c>, the message's structured fields and <c>exception</c>. Timestamps are UTC.
/// </summary>
public sealed class ProcessLogFormatter(IOptionsMonitor<ProcessLogFormatterOptions> options) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "amphora";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        string message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null) return;
        var o = options.CurrentValue;
        string time = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        string? traceId = o.TraceIds && System.Diagnostics.Activity.Current is { } activity ? activity.TraceId.ToHexString() : null;
        if (!o.Json)
        {
            textWriter.Write(traceId is null
                ? $"{time} {Level(logEntry.LogLevel)} {o.Target}/{o.Instance} {logEntry.Category}: {message}\n"
                : $"{time} {Level(logEntry.LogLevel)} {o.Target}/{o.Instance} {logEntry.Category}: {message} trace_id={traceId}\n");
            if (logEntry.Exception is not null) textWriter.Write(logEntry.Exception.ToString() + "\n");
            return;
        }
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", time);
            json.WriteString("level", Level(logEntry.LogLevel));
            json.WriteString("target", o.Target);
            json.WriteString("instance", o.Instance);
            json.WriteString("category", logEntry.Category);
            json.WriteString("message", message);
            if (traceId is not null) json.WriteString("trace_id", traceId);
            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> fields)
            {
                foreach (var (key, value) in fields)
                {
                    if (key is "{OriginalFormat}" or "time" or "level" or "target" or "instance" or "category" or "message" or "exception") continue;
                    json.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            if (logEntry.Exception is not null) json.WriteString("exception", logEntry.Exception.ToString());
            json.WriteEndObject();
        }
        textWriter.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length) + "\n");
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}
