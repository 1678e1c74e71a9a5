using Amphora.Compactor;
using Amphora.Server.Config;
using Amphora.Tsdb.Blocks;

namespace Amphora.Server;

/// <summary>The compactor: its own process (--target=compactor) or part of --target=all.</summary>
public sealed partial class Modules
{
    /// <summary>The tenancy of --target=compactor, whose HTTP listener serves the control plane too.</summary>
    private TenancyModule AddTenancyForCompactor(AmphoraConfig config, IServiceProvider services)
    {
        var tenancy = AddTenancy(config, services, workspace => RequestWorkspaceDeletionAsync(config, services, workspace), completesDeletion: false);
        _routes.Add(tenancy.MapRoutes);
        return tenancy;
    }

    /// <summary>The tenancy of one component over the shared bucket. Only --target=all completes a workspace's deletion itself;
    /// elsewhere <paramref name="deleteData"/> requests it and the compactor completes it.</summary>
    private TenancyModule AddTenancy(AmphoraConfig config, IServiceProvider services, Func<string, Task>? deleteData, bool completesDeletion,
        double? seriesLimitShare = null)
    {
        var tenancy = new TenancyModule(config, deleteData, services.GetRequiredService<ILoggerFactory>(),
            (Amphora.Bucket.IConditionalBucket)BucketFrom(config, services), completesDeletion, seriesLimitShare);
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
            // Every component syncs the tenancy state at this interval: three of them let each ingester see a deletion.
            WorkspaceDeletionGrace = config.Target == "all" ? TimeSpan.Zero : config.TenancySyncInterval * 3,
        };
        tenancy.UsageBucket ??= BucketFrom(config, services);
        var registry = tenancy.Tenancy.Registry;
        _services.Add(new CompactorService(BucketFrom(config, services), options, tenancy.Tenancy.Retention,
            services.GetRequiredService<ILogger<CompactorService>>())
        {
            // A workspace deleted through any component is DELETING in the shared state: the compactor removes its objects,
            // then its record and its keys, so every component answers 404 for it.
            DeletingWorkspaces = registry.Deleting,
            WorkspaceDeleted = async (workspace, ct) =>
            {
                await tenancy.Tenancy.Keys.DeleteForWorkspaceAsync(workspace, ct);
                await registry.CompleteDeletionAsync(workspace, ct);
            },
        });
    }

    /// <summary>Marks a deleted workspace in the bucket (the compactor removes its objects) and stops serving its blocks now.</summary>
    private async Task MarkWorkspaceDeletedAsync(AmphoraConfig config, IServiceProvider services, BucketBlockStore store, string workspace)
    {
        await RequestWorkspaceDeletionAsync(config, services, workspace);
        store.Forget(workspace);
    }

    /// <summary>Writes the workspace deletion mark that tells every reader to stop serving its blocks and the compactor to
    /// remove its objects.</summary>
    private async Task RequestWorkspaceDeletionAsync(AmphoraConfig config, IServiceProvider services, string workspace)
    {
        var mark = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { deletion_time = DateTimeOffset.UtcNow.ToUnixTimeSeconds() });
        await BucketFrom(config, services).UploadAsync(BucketLayout.WorkspaceDeletionMark(workspace), new MemoryStream(mark));
    }
}
