using System.Text.Json;
using Amphora.Tenancy.State;
using Microsoft.Extensions.Logging;

namespace Amphora.Tenancy.Keys;

// Start: the access-keys.json of earlier versions ({"keys": [{"key": {...}, "sealedSecret": "..."}]}, sealed with the same
// master key) is imported into the shared state once, then renamed to access-keys.json.migrated. Running: the admin key
// file is re-read when it changes.
public sealed partial class KeyStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Where earlier versions kept this component's keys: <c>access-keys.json</c> in the data directory.</summary>
    public string LegacyFilePath { get; }

    private sealed record KeyFile(List<StoredAccessKey> Keys);

    protected override async Task StartingAsync(CancellationToken ct)
    {
        await MigrateLegacyFileAsync(ct).ConfigureAwait(false);
        CheckMasterKey();
    }

    /// <summary>Logs an error when no stored key opens with this component's master key: the components of one cluster were
    /// given different <c>--auth.master-key-file</c>s, and keys made through another component would not authenticate here.</summary>
    private void CheckMasterKey()
    {
        var sample = _store.Keys().Take(3).ToList();
        if (sample.Count == 0) return;
        foreach (var k in sample)
            if (TryGetSecret(k.Key.AccessKeyId, out _, out _)) return;
        LogMasterKeyMismatch(_logger, sample.Count, _store.BucketName, _options.ResolvedMasterKeyFile);
    }

    private async Task MigrateLegacyFileAsync(CancellationToken ct)
    {
        if (!File.Exists(LegacyFilePath)) return;
        List<StoredAccessKey> keys;
        try
        {
            var file = JsonSerializer.Deserialize<KeyFile>(await File.ReadAllBytesAsync(LegacyFilePath, ct).ConfigureAwait(false), Json)
                       ?? throw new JsonException("empty key file");
            keys = file.Keys ?? [];
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var k in keys)
            {
                if (k?.Key?.AccessKeyId is not { Length: > 0 } id || string.IsNullOrEmpty(k.SealedSecret)) throw new JsonException("a key without id or secret");
                if (!seen.Add(id)) throw new JsonException($"access key {id} appears twice");
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{LegacyFilePath}: cannot migrate the access keys of an earlier version: {e.Message}", e);
        }
        await LegacyImport.RunAsync(LegacyFilePath, "access keys", keys,
            k => _store.UpdateKeyAsync(k.Key.AccessKeyId, before => before ?? k, ct), _store.BucketName, _logger).ConfigureAwait(false);
    }

    protected override async Task RunningAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_options.ReloadInterval, _time);
        while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            ReloadAdminKeyIfChanged();
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

    [LoggerMessage(Level = LogLevel.Error, Message = "none of {Count} access keys in the tenancy state in {Bucket} opens with the master key {MasterKeyFile}: give every component of the cluster the same --auth.master-key-file, or keys created through other components do not authenticate here")]
    private static partial void LogMasterKeyMismatch(ILogger logger, int count, string bucket, string masterKeyFile);

    [LoggerMessage(Level = LogLevel.Information, Message = "re-read the admin key file {Path}: admin key {AccessKeyId}")]
    private static partial void LogAdminKeyReloaded(ILogger logger, string path, string accessKeyId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not re-read {Path}; keeping the previous key")]
    private static partial void LogReloadFailed(ILogger logger, string path, Exception e);
}
