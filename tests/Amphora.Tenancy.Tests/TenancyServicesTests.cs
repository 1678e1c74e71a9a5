using Amphora.Tenancy.Auth;
using Amphora.Model;
using Amphora.Tenancy.Limits;
using Amphora.Tenancy.Workspaces;
using Microsoft.AspNetCore.Http;

namespace Amphora.Tenancy.Tests;

public sealed class TenancyServicesTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_workspace_own_limits_from_its_configuration_apply_over_the_defaults_and_under_the_overrides_file()
    {
        string file = _dir.File("overrides.yml");
        File.WriteAllText(file, "overrides:\n  ws-capped:\n    max_series_per_metric: 7\n");
        using var tenancy = new TenancyServices(new TenancyOptions { DataDir = _dir.Path, OverridesFile = file });
        var ws = await tenancy.Registry.CreateAsync("own limits", null, null);
        Assert.Equal(70_000, tenancy.Overrides.For(ws.WorkspaceId).IngestionRate);

        await tenancy.Registry.UpdateConfigurationAsync(ws.WorkspaceId, null, null, null,
            limits: new WorkspaceLimitSettings { IngestionRate = 500, MaxSeries = 3, MaxSeriesPerMetric = 2 });
        var own = tenancy.Overrides.For(ws.WorkspaceId);
        Assert.Equal((500d, 1_000_000L, 3L, 2L), (own.IngestionRate, own.IngestionBurstSize, own.MaxSeriesPerWorkspace, own.MaxSeriesPerMetric));
        Assert.Equal(3, tenancy.Registry.DescribeConfiguration(ws.WorkspaceId).Limits!.MaxSeries);
        // The series limiter and the rate limiter use them.
        Labels Series(string i) => Labels.FromStrings([Label.MetricName, "up", "i", i]);
        Assert.Null(tenancy.Series.TryAdd(ws.WorkspaceId, Series("1")));
        Assert.Null(tenancy.Series.TryAdd(ws.WorkspaceId, Series("2")));
        Assert.Equal(LimitErrors.MaxSeriesPerMetric, tenancy.Series.TryAdd(ws.WorkspaceId, Series("3"))!.ErrorId);
        Assert.Equal(LimitErrors.IngestionBurst, tenancy.IngestionRate.Admit(ws.WorkspaceId, 1_000_001)!.ErrorId);

        // Another workspace's entry in the overrides file is laid over its own limits.
        File.WriteAllText(file, $"overrides:\n  {ws.WorkspaceId}:\n    max_series_per_metric: 7\n");
        Assert.True(tenancy.Overrides.ReloadIfChanged());
        var layered = tenancy.Overrides.For(ws.WorkspaceId);
        Assert.Equal((500d, 3L, 7L), (layered.IngestionRate, layered.MaxSeriesPerWorkspace, layered.MaxSeriesPerMetric));
        // Replacing the workspace's limits: fields left out go back to the defaults.
        await tenancy.Registry.UpdateConfigurationAsync(ws.WorkspaceId, null, null, null, limits: new WorkspaceLimitSettings { MaxSeries = 9 });
        Assert.Equal((70_000d, 9L), (tenancy.Overrides.For(ws.WorkspaceId).IngestionRate, tenancy.Overrides.For(ws.WorkspaceId).MaxSeriesPerWorkspace));
    }

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
