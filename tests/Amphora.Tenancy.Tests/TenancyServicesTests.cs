using Amphora.Tenancy.Auth;
using Microsoft.AspNetCore.Http;

namespace Amphora.Tenancy.Tests;

public sealed class TenancyServicesTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_bootstrap_credentials_authenticate_and_what_another_component_creates_is_seen_and_authenticates_within_the_sync_interval()
    {
        var options = new TenancyOptions { DataDir = _dir.Path, ReloadInterval = TimeSpan.FromMilliseconds(50), SyncInterval = TimeSpan.FromMilliseconds(50) };
        using var tenancy = new TenancyServices(options);
        var creds = await tenancy.BootstrapAsync();
        Assert.NotNull(creds);
        var result = tenancy.Authenticator.Authenticate(new AuthRequest
        {
            Method = "GET", RawPath = "/workspaces", Headers = new HeaderDictionary { ["Authorization"] = $"Bearer {creds.AccessKeyId}:{creds.SecretAccessKey}" },
        });
        Assert.True(result.Succeeded, result.Reason);

        foreach (var s in tenancy.Services) await s.StartAsync(CancellationToken.None);
        try
        {
            // Another component on the same bucket, with its own data dir (its own cache and master key copy).
            string otherDir = Path.Combine(_dir.Path, "other");
            Directory.CreateDirectory(otherDir);
            File.Copy(options.ResolvedMasterKeyFile, Path.Combine(otherDir, "master.key"));
            using var other = new TenancyServices(new TenancyOptions
            {
                DataDir = otherDir,
                Bucket = new Amphora.Bucket.FilesystemBucket(Path.Combine(_dir.Path, "bucket")),
            });
            var ws = await other.Registry.CreateAsync("written elsewhere", null, null);
            var key = other.Keys.Create(ws.WorkspaceId, ["aps:RemoteWrite"]);
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while ((tenancy.Registry.Find(ws.WorkspaceId) is null || tenancy.Keys.Find(key.Key.AccessKeyId) is null) && DateTime.UtcNow < deadline)
                await Task.Delay(20);
            Assert.NotNull(tenancy.Registry.Find(ws.WorkspaceId));
            Assert.NotNull(tenancy.Keys.Find(key.Key.AccessKeyId));
            var viaOther = tenancy.Authenticator.Authenticate(new AuthRequest
            {
                Method = "GET", RawPath = "/workspaces", Headers = new HeaderDictionary { ["Authorization"] = $"Bearer {key.Key.AccessKeyId}:{key.SecretAccessKey}" },
            });
            Assert.True(viaOther.Succeeded, viaOther.Reason); // sealed by the other component with the same master key
        }
        finally
        {
            foreach (var s in tenancy.Services) await s.StopAsync(CancellationToken.None);
        }
    }
}
