using System.Security.Cryptography;
using System.Text.Json;
using Amphora.Services;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Tenancy.Keys;

/// <summary>
/// Access keys persisted in <c>access-keys.json</c> in the data directory, each secret sealed with AES-GCM under the
/// <see cref="MasterKey"/> (SigV4 verification needs the secret itself, so it cannot be a one-way hash). Secrets leave the
/// store only once, when a key is created, and to the authenticator. The file is written atomically and re-read when another
/// writer changes it (polled as a service). Thread-safe.
/// </summary>
public sealed partial class KeyStore : ServiceBase
{
    private const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private readonly TenancyOptions _options;
    private readonly MasterKey _master;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private Dictionary<string, StoredAccessKey> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _openedSecrets = new(StringComparer.Ordinal);
    private FileStamp? _stamp;
    private volatile AdminKeyFile? _admin;

    public KeyStore(TenancyOptions options, MasterKey master, TimeProvider? time = null, ILogger? logger = null)
    {
        _options = options;
        _master = master;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        FilePath = Path.Combine(options.DataDir, "access-keys.json");
        Directory.CreateDirectory(options.DataDir);
        lock (_lock) LoadLocked(throwOnError: true);
        if (options.AdminKeyFile is { } adminFile) _admin = AdminKeyFile.Load(adminFile, _time.GetUtcNow());
    }

    /// <summary>The admin key of <c>--auth.admin-key-file</c>, or null when none is configured.</summary>
    public AccessKeyInfo? AdminKey => _admin?.Key;

    public override string Name => "access-keys";
    public string FilePath { get; }

    /// <summary>Creates a key for one workspace (or every workspace when <paramref name="workspaceId"/> is null).</summary>
    public CreatedAccessKey Create(string? workspaceId, IReadOnlyList<string>? actions, string? description = null)
    {
        var normalized = ApsActions.Validate(actions);
        if (description is { Length: > 256 }) throw TenancyException.Validation("description: at most 256 characters");
        string id = "AKIA" + new string(RandomNumberGenerator.GetItems<char>(IdAlphabet, 16));
        string secret = new(RandomNumberGenerator.GetItems<char>(SecretAlphabet, 40));
        var info = new AccessKeyInfo
        {
            AccessKeyId = id,
            WorkspaceId = workspaceId,
            Actions = normalized,
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds()),
            Description = description,
        };
        var stored = new StoredAccessKey { Key = info, SealedSecret = _master.Seal(secret, id) };
        lock (_lock)
        {
            ReloadIfChangedLocked();
            _byId[id] = stored;
            SaveLocked();
        }
        return new CreatedAccessKey(info, secret);
    }

    public AccessKeyInfo? Find(string accessKeyId)
    {
        lock (_lock) return _byId.TryGetValue(accessKeyId, out var k) ? k.Key : null;
    }

    /// <summary>Keys ordered by id: all, or those bound to <paramref name="workspaceId"/>.</summary>
    public IReadOnlyList<AccessKeyInfo> List(string? workspaceId = null)
    {
        var list = new List<AccessKeyInfo>();
        lock (_lock)
        {
            foreach (var k in _byId.Values)
                if (workspaceId is null || k.Key.WorkspaceId == workspaceId) list.Add(k.Key);
        }
        list.Sort(static (a, b) => string.CompareOrdinal(a.AccessKeyId, b.AccessKeyId));
        return list;
    }

    public int Count
    {
        get { lock (_lock) return _byId.Count; }
    }

    public AccessKeyInfo SetEnabled(string accessKeyId, bool enabled)
    {
        lock (_lock)
        {
            ReloadIfChangedLocked();
            if (!_byId.TryGetValue(accessKeyId, out var k)) throw KeyNotFound(accessKeyId);
            if (k.Key.Enabled == enabled) return k.Key;
            var updated = k with { Key = k.Key with { Enabled = enabled } };
            _byId[accessKeyId] = updated;
            SaveLocked();
            return updated.Key;
        }
    }

    public void Delete(string accessKeyId)
    {
        lock (_lock)
        {
            ReloadIfChangedLocked();
            if (!_byId.Remove(accessKeyId)) throw KeyNotFound(accessKeyId);
            _openedSecrets.Remove(accessKeyId);
            SaveLocked();
        }
    }

    /// <summary>Deletes every key bound to a workspace (after the workspace itself is deleted). Returns how many.</summary>
    public int DeleteForWorkspace(string workspaceId)
    {
        lock (_lock)
        {
            ReloadIfChangedLocked();
            var ids = new List<string>();
            foreach (var (id, k) in _byId)
                if (k.Key.WorkspaceId == workspaceId) ids.Add(id);
            foreach (var id in ids)
            {
                _byId.Remove(id);
                _openedSecrets.Remove(id);
            }
            if (ids.Count > 0) SaveLocked();
            return ids.Count;
        }
    }

    /// <summary>
    /// The key and its secret (UTF-8) for the authenticator, or false for an unknown key. A disabled key is returned too so the
    /// caller can say why it is refused. The returned array is shared: callers must not modify it.
    /// </summary>
    internal bool TryGetSecret(string accessKeyId, out AccessKeyInfo key, out byte[] secret)
    {
        if (_admin is { } admin && admin.Key.AccessKeyId == accessKeyId)
        {
            key = admin.Key;
            secret = admin.Secret;
            return true;
        }
        lock (_lock)
        {
            if (!_byId.TryGetValue(accessKeyId, out var stored))
            {
                key = null!;
                secret = [];
                return false;
            }
            if (!_openedSecrets.TryGetValue(accessKeyId, out secret!))
            {
                try
                {
                    secret = _master.Open(stored.SealedSecret, accessKeyId);
                }
                catch (CryptographicException e)
                {
                    LogUnsealFailed(_logger, accessKeyId, e);
                    key = null!;
                    secret = [];
                    return false;
                }
                _openedSecrets[accessKeyId] = secret;
            }
            key = stored.Key;
            return true;
        }
    }

    private static TenancyException KeyNotFound(string id) => TenancyException.NotFound($"access key {id} not found");

    [LoggerMessage(Level = LogLevel.Error, Message = "the secret of access key {AccessKeyId} cannot be decrypted with the master key")]
    private static partial void LogUnsealFailed(ILogger logger, string accessKeyId, Exception e);
}
