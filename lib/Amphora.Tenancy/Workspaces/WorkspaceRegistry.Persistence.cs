using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Amphora.Tenancy.Workspaces;

// workspaces.json: {"workspaces": [record, ...]}, written atomically, re-read when it changes on disk.
public sealed partial class WorkspaceRegistry
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private FileStamp? _stamp;
    private byte[] _contentHash = [];

    /// <summary>The registry file, <c>workspaces.json</c> in the data directory.</summary>
    public string FilePath { get; }

    private sealed record RegistryFile(List<WorkspaceRecord> Workspaces);

    /// <summary>Re-reads the file if another writer changed it. Returns true when the registry changed.</summary>
    public bool ReloadIfChanged()
    {
        bool changed;
        lock (_lock) changed = ReloadIfChangedLocked();
        if (changed) OnChanged();
        return changed;
    }

    private bool ReloadIfChangedLocked()
    {
        var stamp = FileStamp.Of(FilePath);
        if (stamp == _stamp) return false;
        return LoadLocked(throwOnError: false);
    }

    private bool LoadLocked(bool throwOnError)
    {
        var stamp = FileStamp.Of(FilePath);
        if (stamp is null)
        {
            _stamp = null;
            return false; // a missing file keeps what we have; the next change writes it again
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(FilePath);
        }
        catch (IOException e) when (!throwOnError)
        {
            LogReloadFailed(_logger, FilePath, e);
            return false;
        }
        byte[] hash = SHA256.HashData(bytes);
        _stamp = stamp;
        if (hash.AsSpan().SequenceEqual(_contentHash)) return false;
        Dictionary<string, WorkspaceRecord> loaded;
        try
        {
            loaded = Parse(bytes);
        }
        catch (Exception e) when (e is JsonException or TenancyException && !throwOnError)
        {
            LogReloadFailed(_logger, FilePath, e);
            return false;
        }
        _contentHash = hash;
        _byId = loaded;
        return true;
    }

    private Dictionary<string, WorkspaceRecord> Parse(byte[] bytes)
    {
        var file = JsonSerializer.Deserialize<RegistryFile>(bytes, Json) ?? throw new JsonException("empty registry file");
        var byId = new Dictionary<string, WorkspaceRecord>(StringComparer.Ordinal);
        foreach (var ws in file.Workspaces ?? [])
        {
            if (ws is null || string.IsNullOrEmpty(ws.WorkspaceId)) throw new JsonException("a workspace without workspaceId");
            if (Amphora.Model.WorkspaceIds.Validate(ws.WorkspaceId) is { } invalid) throw new JsonException(invalid.Message);
            WorkspaceValidation.Configuration(ws.Configuration ?? new WorkspaceConfiguration());
            var normalized = ws with
            {
                Arn = string.IsNullOrEmpty(ws.Arn) ? _options.WorkspaceArn(ws.WorkspaceId) : ws.Arn,
                Tags = ws.Tags ?? new Dictionary<string, string>(),
                Configuration = ws.Configuration ?? new WorkspaceConfiguration(),
                Status = string.IsNullOrEmpty(ws.Status) ? WorkspaceStatusCode.Active : ws.Status,
            };
            if (!byId.TryAdd(ws.WorkspaceId, normalized)) throw new JsonException($"workspace {ws.WorkspaceId} appears twice");
        }
        return byId;
    }

    private void SaveLocked()
    {
        var list = new List<WorkspaceRecord>(_byId.Values);
        list.Sort(static (a, b) => string.CompareOrdinal(a.WorkspaceId, b.WorkspaceId));
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(new RegistryFile(list), Json);
        AtomicFile.Write(FilePath, bytes);
        _contentHash = SHA256.HashData(bytes);
        _stamp = FileStamp.Of(FilePath);
    }

    protected override async Task RunningAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_options.ReloadInterval, _time);
        while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            ReloadIfChanged();
    }

    protected override Task StoppingAsync(CancellationToken ct) => WhenIdleAsync().WaitAsync(ct);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not reload the workspace registry {Path}; keeping the previous state")]
    private static partial void LogReloadFailed(ILogger logger, string path, Exception e);
}
