using System.Security.Cryptography;
using System.Text;
using Amphora.Tenancy.Auth;
using Amphora.Tenancy.Keys;
using Microsoft.AspNetCore.Http;

namespace Amphora.Tenancy.Tests;

public sealed class KeyStoreTests : IDisposable
{
    private readonly TenancyFixture _f = new();
    public void Dispose() => _f.Dispose();

    private AuthResult Authenticate(string authorization) =>
        new Authenticator(_f.Keys, _f.Options).Authenticate(new AuthRequest
        {
            Method = "GET", RawPath = "/", Headers = new HeaderDictionary { ["Authorization"] = authorization },
        });

    [Fact]
    public void A_created_key_has_an_AWS_style_id_and_a_40_character_secret()
    {
        var created = _f.Keys.Create("ws-a", [ApsActions.RemoteWrite]);
        Assert.Matches("^AKIA[A-Z2-7]{16}$", created.Key.AccessKeyId);
        Assert.Equal(40, created.SecretAccessKey.Length);
        Assert.Equal(["aps:RemoteWrite"], created.Key.Actions);
    }

    [Fact]
    public void Unknown_actions_are_refused_and_names_are_normalised()
    {
        Assert.Throws<TenancyException>(() => _f.Keys.Create("ws-a", ["aps:Everything"]));
        Assert.Throws<TenancyException>(() => _f.Keys.Create("ws-a", []));
        Assert.Equal(["aps:QueryMetrics", "aps:Get*"], _f.Keys.Create("ws-a", ["aps:querymetrics", "aps:Get*"]).Key.Actions);
    }

    [Fact]
    public async Task The_secret_is_not_in_the_bucket_nor_the_cache_but_survives_a_restart()
    {
        var created = _f.Keys.Create("ws-a", [ApsActions.QueryMetrics]);
        var store = _f.NewStore("restarted");
        await store.StartAsync(CancellationToken.None); // reads the bucket and writes its cache file
        try
        {
            byte[] secretBytes = Encoding.UTF8.GetBytes(created.SecretAccessKey);
            foreach (var file in Directory.EnumerateFiles(_f.Dir.Path, "*", SearchOption.AllDirectories).Where(p => !p.EndsWith(".key", StringComparison.Ordinal)))
                Assert.Equal(-1, File.ReadAllBytes(file).AsSpan().IndexOf(secretBytes));
            Assert.Contains(created.Key.AccessKeyId, File.ReadAllText(store.CacheFile));

            var reopened = new KeyStore(_f.Options, store, MasterKey.Load(_f.Options.ResolvedMasterKeyFile, false));
            Assert.True(reopened.TryGetSecret(created.Key.AccessKeyId, out _, out var secret));
            Assert.Equal(created.SecretAccessKey, Encoding.UTF8.GetString(secret));
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.CacheFile));
        }
        finally
        {
            await store.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void Another_master_key_cannot_open_the_secrets()
    {
        var created = _f.Keys.Create("ws-a", [ApsActions.QueryMetrics]);
        var other = new KeyStore(_f.Options, _f.Store, new MasterKey(RandomNumberGenerator.GetBytes(32)));
        Assert.False(other.TryGetSecret(created.Key.AccessKeyId, out _, out _));
    }

    [Fact]
    public void The_master_key_file_is_readable_only_by_its_owner()
    {
        if (OperatingSystem.IsWindows()) return;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_f.Options.ResolvedMasterKeyFile));
        Assert.Equal(64, File.ReadAllText(_f.Options.ResolvedMasterKeyFile).Trim().Length);
    }

    [Fact]
    public void A_missing_master_key_file_is_an_error_when_creation_is_off()
    {
        Assert.Throws<FileNotFoundException>(() => MasterKey.Load(_f.Dir.File("absent.key"), createIfMissing: false));
    }

    [Fact]
    public void Keys_are_listed_without_secrets_disabled_and_deleted()
    {
        var a = _f.Keys.Create("ws-a", [ApsActions.RemoteWrite]);
        var b = _f.Keys.Create("ws-b", [ApsActions.QueryMetrics]);
        Assert.Equal([a.Key.AccessKeyId], _f.Keys.List("ws-a").Select(k => k.AccessKeyId));
        Assert.Equal(2, _f.Keys.List().Count);

        Assert.True(Authenticate("Bearer " + a.Key.AccessKeyId + ":" + a.SecretAccessKey).Succeeded);
        _f.Keys.SetEnabled(a.Key.AccessKeyId, false);
        Assert.Equal(AuthFailure.DisabledKey, Authenticate("Bearer " + a.Key.AccessKeyId + ":" + a.SecretAccessKey).Failure);

        _f.Keys.Delete(b.Key.AccessKeyId);
        Assert.Equal(AuthFailure.UnknownKey, Authenticate("Bearer " + b.Key.AccessKeyId + ":" + b.SecretAccessKey).Failure);
        Assert.Throws<TenancyException>(() => _f.Keys.Delete(b.Key.AccessKeyId));
    }

    [Fact]
    public async Task A_key_created_disabled_or_deleted_through_another_component_takes_effect_here_after_a_sync()
    {
        var otherStore = _f.NewStore("other");
        var other = new KeyStore(_f.Options, otherStore, _f.Master);
        var created = other.Create("ws-a", [ApsActions.GetLabels]);
        string bearer = "Bearer " + created.Key.AccessKeyId + ":" + created.SecretAccessKey;
        Assert.Null(_f.Keys.Find(created.Key.AccessKeyId));
        await _f.Store.SyncAsync();
        Assert.True(Authenticate(bearer).Succeeded);
        other.SetEnabled(created.Key.AccessKeyId, false);
        await _f.Store.SyncAsync();
        Assert.Equal(AuthFailure.DisabledKey, Authenticate(bearer).Failure);
        other.Delete(created.Key.AccessKeyId);
        await _f.Store.SyncAsync();
        Assert.Equal(AuthFailure.UnknownKey, Authenticate(bearer).Failure);
    }

    [Fact]
    public async Task The_access_keys_json_of_an_earlier_version_is_migrated_on_start_and_its_secrets_still_open()
    {
        // Written as earlier versions did: the same sealed form, under the same master key.
        var legacyStore = _f.NewStore("legacy");
        var legacy = new KeyStore(_f.Options, legacyStore, _f.Master);
        var created = legacy.Create("ws-a", [ApsActions.RemoteWrite]);
        var sealedKey = legacyStore.Current.Keys[created.Key.AccessKeyId];
        File.WriteAllText(_f.Keys.LegacyFilePath, System.Text.Json.JsonSerializer.Serialize(new { keys = new[] { sealedKey } },
            new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)));
        await legacy.DeleteAsync(created.Key.AccessKeyId); // gone from the bucket: only the file has it now
        await _f.Store.SyncAsync();
        Assert.Null(_f.Keys.Find(created.Key.AccessKeyId));

        await _f.Keys.StartAsync(CancellationToken.None);
        await _f.Keys.StopAsync(CancellationToken.None);
        Assert.True(Authenticate(Http.Basic(created.Key.AccessKeyId, created.SecretAccessKey).ToString()).Succeeded);
        Assert.False(File.Exists(_f.Keys.LegacyFilePath));
        Assert.True(File.Exists(_f.Keys.LegacyFilePath + ".migrated"));
    }

    [Fact]
    public void Basic_and_bearer_credentials_are_checked_against_the_secret()
    {
        var k = _f.Keys.Create("ws-a", [ApsActions.RemoteWrite]);
        string id = k.Key.AccessKeyId;
        Assert.True(Authenticate(Http.Basic(id, k.SecretAccessKey).ToString()).Succeeded);
        Assert.True(Authenticate($"Bearer {id}:{k.SecretAccessKey}").Succeeded);
        Assert.Equal(AuthFailure.BadCredentials, Authenticate(Http.Basic(id, k.SecretAccessKey + "x").ToString()).Failure);
        Assert.Equal(AuthFailure.BadCredentials, Authenticate($"Bearer {id}:wrong").Failure);
        Assert.Equal(AuthFailure.UnknownKey, Authenticate(Http.Basic("AKIANOPENOPENOPENOPE", "x").ToString()).Failure);
        Assert.Equal(AuthFailure.Malformed, Authenticate("Bearer just-a-token").Failure);
        Assert.Equal(AuthFailure.Malformed, Authenticate("Basic !!!").Failure);
        Assert.Equal(AuthFailure.Malformed, Authenticate("Digest x").Failure);
        Assert.Equal(AuthFailure.Missing, new Authenticator(_f.Keys, _f.Options).Authenticate(new AuthRequest
        {
            Method = "GET", RawPath = "/", Headers = new HeaderDictionary(),
        }).Failure);
    }

    [Fact]
    public async Task The_first_start_creates_the_default_workspace_and_an_admin_key_once()
    {
        var first = await TenancyBootstrap.EnsureAsync(_f.Options, _f.Registry, _f.Keys);
        Assert.NotNull(first);
        Assert.Equal("default", first.WorkspaceId);
        Assert.True(_f.Registry.Find("default")!.IsActive);
        var admin = _f.Keys.Find(first.AccessKeyId)!;
        Assert.Null(admin.WorkspaceId);
        Assert.Equal([ApsActions.All], admin.Actions);
        Assert.Contains(first.SecretAccessKey, File.ReadAllText(first.CredentialsFile));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(first.CredentialsFile));
        Assert.Null(await TenancyBootstrap.EnsureAsync(_f.Options, _f.Registry, _f.Keys));
    }
}
