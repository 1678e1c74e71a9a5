using System.Collections.Concurrent;
using System.Security.Cryptography;
using Amphora.Services;
using Amphora.Tenancy.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Tenancy.Keys;

/// <summary>
/// Access keys in the tenancy state every component shares (<see cref="TenancyStore"/>, one object per key in the bucket),
/// each secret sealed with AES-GCM under the <see cref="MasterKey"/> (SigV4 verification needs the secret itself, so it
/// cannot be a one-way hash; every component is given the same master key). Secrets leave the store only once, when a key
/// is created, and to the authenticator. Reads come from the store's snapshot without a lock or I/O, so a disabled or
/// deleted key stops working on every component within one sync interval. As a service, it migrates the
/// <c>access-keys.json</c> of earlier versions on start and re-reads the admin key file when it changes.
/// </summary>
public sealed partial class KeyStore : ServiceBase
{
    private const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private readonly TenancyOptions _options;
    private readonly TenancyStore _store;
    private readonly MasterKey _master;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    // Secrets opened once per sealed value: a key whose secret changed in the shared state is opened again.
    private readonly ConcurrentDictionary<string, (string Sealed, byte[] Secret)> _openedSecrets = new(StringComparer.Ordinal);
    private volatile AdminKeyFile? _admin;

    public KeyStore(TenancyOptions options, TenancyStore store, MasterKey master, TimeProvider? time = null, ILogger? logger = null)
    {
        _options = options;
        _store = store;
        _master = master;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        LegacyFilePath = Path.Combine(options.DataDir, "access-keys.json");
        if (options.AdminKeyFile is { } adminFile) _admin = AdminKeyFile.Load(adminFile, _time.GetUtcNow());
    }

    /// <summary>The admin key of <c>--auth.admin-key-file</c>, or null when none is configured.</summary>
    public AccessKeyInfo? AdminKey => _admin?.Key;

    public override string Name => "access-keys";

    /// <summary>Creates a key for one workspace (or every workspace when <paramref name="workspaceId"/> is null).</summary>
    public async Task<CreatedAccessKey> CreateAsync(string? workspaceId, IReadOnlyList<string>? actions, string? description = null,
        CancellationToken ct = default)
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
        await _store.UpdateKeyAsync(id, before => before is null ? stored : throw TenancyException.Conflict($"access key {id} already exists"), ct)
            .ConfigureAwait(false);
        return new CreatedAccessKey(info, secret);
    }

    public AccessKeyInfo? Find(string accessKeyId) => _store.FindKey(accessKeyId)?.Key;

    /// <summary>Keys ordered by id: all, or those bound to <paramref name="workspaceId"/>.</summary>
    public IReadOnlyList<AccessKeyInfo> List(string? workspaceId = null)
    {
        var list = new List<AccessKeyInfo>();
        foreach (var k in _store.Keys())
            if (workspaceId is null || k.Key.WorkspaceId == workspaceId) list.Add(k.Key);
        return list;
    }

    public int Count => _store.Current.Keys.Count;

    public async Task<AccessKeyInfo> SetEnabledAsync(string accessKeyId, bool enabled, CancellationToken ct = default)
    {
        var updated = await _store.UpdateKeyAsync(accessKeyId, k =>
        {
            if (k is null) throw KeyNotFound(accessKeyId);
            return k.Key.Enabled == enabled ? k : k with { Key = k.Key with { Enabled = enabled } };
        }, ct).ConfigureAwait(false);
        return updated!.Key;
    }

    public async Task DeleteAsync(string accessKeyId, CancellationToken ct = default)
    {
        await _store.UpdateKeyAsync(accessKeyId, k => k is null ? throw KeyNotFound(accessKeyId) : null, ct).ConfigureAwait(false);
        _openedSecrets.TryRemove(accessKeyId, out _);
    }

    /// <summary>Deletes every key bound to a workspace (after the workspace itself is deleted). Returns how many.</summary>
    public async Task<int> DeleteForWorkspaceAsync(string workspaceId, CancellationToken ct = default)
    {
        int deleted = 0;
        foreach (var k in List(workspaceId))
        {
            await _store.UpdateKeyAsync(k.AccessKeyId, before => null, ct).ConfigureAwait(false);
            _openedSecrets.TryRemove(k.AccessKeyId, out _);
            deleted++;
        }
        return deleted;
    }

    /// <summary>
    /// The key and its secret (UTF-8) for the authenticator, or false for an unknown key. A disabled key is returned too so the
    /// caller can say why it is refused. The returned array is shared: callers must not modify it. No lock, no I/O.
    /// </summary>
    internal bool TryGetSecret(string accessKeyId, out AccessKeyInfo key, out byte[] secret)
    {
        if (_admin is { } admin && admin.Key.AccessKeyId == accessKeyId)
        {
            key = admin.Key;
            secret = admin.Secret;
            return true;
        }
        if (_store.FindKey(accessKeyId) is not { } stored)
        {
            key = null!;
            secret = [];
            return false;
        }
        if (_openedSecrets.TryGetValue(accessKeyId, out var opened) && opened.Sealed == stored.SealedSecret)
        {
            secret = opened.Secret;
        }
        else
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
            _openedSecrets[accessKeyId] = (stored.SealedSecret, secret);
        }
        key = stored.Key;
        return true;
    }

    private static TenancyException KeyNotFound(string id) => TenancyException.NotFound($"access key {id} not found");

    [LoggerMessage(Level = LogLevel.Error, Message = "the secret of access key {AccessKeyId} cannot be decrypted with the master key")]
    private static partial void LogUnsealFailed(ILogger logger, string accessKeyId, Exception e);
}
