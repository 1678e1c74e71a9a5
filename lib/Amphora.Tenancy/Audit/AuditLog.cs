using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Amphora.Tenancy.Audit;

/// <summary>One audit record. Holds identifiers and reasons only, never a secret or an Authorization header.</summary>
public sealed record AuditEvent
{
    public required DateTimeOffset Time { get; init; }
    public string? KeyId { get; init; }
    public string? Workspace { get; init; }
    public required string Action { get; init; }
    public string? SourceAddress { get; init; }
    /// <summary>"allowed", "denied" or "failed".</summary>
    public required string Outcome { get; init; }
    public int Status { get; init; }
    public string? Reason { get; init; }
    public string? Method { get; init; }
    public string? Path { get; init; }
}

/// <summary>
/// Appends one JSON line per event to a file and/or standard output: each control-plane call and each denied data-plane
/// request. Thread-safe; each line is written and flushed whole.
/// </summary>
public sealed class AuditLog : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly Lock _lock = new();
    private readonly FileStream? _file;
    private readonly TextWriter? _stdout;

    public AuditLog(string? filePath, TextWriter? stdout = null)
    {
        if (filePath is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(filePath))!);
            var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
            _file = new FileStream(filePath, options);
        }
        _stdout = stdout;
    }

    public static AuditLog FromOptions(TenancyOptions options) =>
        new(options.AuditLogFile, options.AuditLogToStdout ? Console.Out : null);

    /// <summary>An audit log that records nothing.</summary>
    public static AuditLog None => new(null);

    public void Record(AuditEvent e)
    {
        if (_file is null && _stdout is null) return;
        byte[] line = JsonSerializer.SerializeToUtf8Bytes(e, Json);
        lock (_lock)
        {
            if (_file is not null)
            {
                _file.Write(line);
                _file.WriteByte((byte)'\n');
                _file.Flush();
            }
            if (_stdout is not null)
            {
                _stdout.Write(Encoding.UTF8.GetString(line) + "\n");
                _stdout.Flush();
            }
        }
    }

    public void Dispose()
    {
        lock (_lock) _file?.Dispose();
    }
}
