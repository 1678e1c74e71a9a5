using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Amphora.Tenancy.Keys;

// access-keys.json: {"keys": [{"key": {...}, "sealedSecret": "..."}]}, written atomically with mode 0600.
public sealed partial class KeyStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private sealed record KeyFile(List<StoredAccessKey> Keys);

    public bool ReloadIfChanged()
    {
        lock (_lock) return ReloadIfChangedLocked();
    }

    private bool ReloadIfChangedLocked()
    {
        if (FileStamp.Of(FilePath) == _stamp) return false;
        return LoadLocked(throwOnError: false);
    }

    private bool LoadLocked(bool throwOnError)
    {
        var stamp = FileStamp.Of(FilePath);
        if (stamp is null) { _stamp = null; return false; }
        try
        {
            var file = JsonSerializer.Deserialize<KeyFile>(File.ReadAllBytes(FilePath), Json) ?? throw new JsonException("empty key file");
            var byId = new Dictionary<string, StoredAccessKey>(StringComparer.Ordinal);
            foreach (var k in file.Keys ?? [])
            {
                if (k?.Key?.AccessKeyId is not { Length: > 0 } id || string.IsNullOrEmpty(k.SealedSecret)) throw new JsonException("a key without id or secret");
                if (!byId.TryAdd(id, k)) throw new JsonException($"access key {id} appears twice");
            }
            _byId = byId;
            _openedSecrets.Clear();
            _stamp = stamp;
            return true;
        }
        catch (Exception e) when (e is JsonException or IOException && !throwOnError)
        {
            LogReloadFailed(_logger, FilePath, e);
            _stamp = stamp;
            return false;
        }
    }

    private void SaveLocked()
    {
        var list = new List<StoredAccessKey>(_byId.Values);
        list.Sort(static (a, b) => string.CompareOrdinal(a.Key.AccessKeyId, b.Key.AccessKeyId));
        AtomicFile.Write(FilePath, JsonSerializer.SerializeToUtf8Bytes(new KeyFile(list), Json), ownerOnly: true);
        _stamp = FileStamp.Of(FilePath);
    }

    protected override async Task RunningAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_options.ReloadInterval, _time);
        while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
        {
            ReloadIfChanged();
            ReloadAdminKeyIfChanged();
        }
    }

    /// <summary>Re-reads the admin key file after it changed (a rotated Secret); a broken file keeps the previous key.</summary>
    public void ReloadAdminKeyIfChanged()
    {
        if (_options.AdminKeyFile is not { } path || _admin is not { } current || !current.Changed(path)) return;
        try
        {
            _admin = AdminKeyFile.Load(path, _time.GetUtcNow());
            LogAdminKeyReloaded(_logger, path, _admin.Key.AccessKeyId);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            LogReloadFailed(_logger, path, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "re-read the admin key file {Path}: admin key {AccessKeyId}")]
    private static partial void LogAdminKeyReloaded(ILogger logger, string path, string accessKeyId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not reload the access keys from {Path}; keeping the previous state")]
    private static partial void LogReloadFailed(ILogger logger, string path, Exception e);
}
