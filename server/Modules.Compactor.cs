using Amphora.Compactor;
using Amphora.Server.Config;
using Amphora.Tsdb.Blocks;

namespace Amphora.Server;

/// <summary>The compactor: its own process (--target=compactor) or part of --target=all.</summary>
public sealed partial class Modules
{
    private TenancyModule AddTenancyForCompactor(AmphoraConfig config, IServiceProvider services)
    {
        var tenancy = new TenancyModule(config, null, services.GetRequiredService<ILoggerFactory>());
        _services.Add(tenancy);
        return tenancy;
    }

    private void AddCompactor(AmphoraConfig config, IServiceProvider services, TenancyModule tenancy)
    {
        var options = new CompactorOptions
        {
            Interval = config.CompactorInterval,
            Ranges = config.CompactorRanges() ?? throw new ConfigException("invalid --compactor.block-ranges"),
            DeletionDelay = config.CompactorDeletionDelay,
            ConsistencyDelay = config.CompactorConsistencyDelay,
            PartialUploadTimeout = config.CompactorPartialUploadTimeout,
            Name = config.CompactorName,
            Members = config.CompactorMembers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            WorkDir = Path.Combine(config.DataDir, "compactor"),
        };
        tenancy.UsageBucket ??= BucketFrom(config, services);
        _services.Add(new CompactorService(BucketFrom(config, services), options, tenancy.Tenancy.Retention,
            services.GetRequiredService<ILogger<CompactorService>>()));
    }

    /// <summary>Marks a deleted workspace in the bucket (the compactor removes its objects) and stops serving its blocks now.</summary>
    private async Task MarkWorkspaceDeletedAsync(AmphoraConfig config, IServiceProvider services, BucketBlockStore store, string workspace)
    {
        var mark = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { deletion_time = DateTimeOffset.UtcNow.ToUnixTimeSeconds() });
        await BucketFrom(config, services).UploadAsync(BucketLayout.WorkspaceDeletionMark(workspace), new MemoryStream(mark));
        store.Forget(workspace);
    }
}
