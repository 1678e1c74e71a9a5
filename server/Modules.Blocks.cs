using Amphora.Bucket;
using Amphora.Server.Config;
using Amphora.Tsdb.Blocks;

namespace Amphora.Server;

/// <summary>The bucket blocks go to (ingesters upload, queriers read): one instance per process, retried on transient errors.</summary>
public sealed partial class Modules
{
    private IBucket? _bucket;

    private IBucket BucketFrom(AmphoraConfig config, IServiceProvider services)
    {
        if (_bucket is not null) return _bucket;
        IBucket inner = config.BlocksStorage == "s3"
            ? new S3Bucket(new S3BucketOptions(config.S3Bucket, config.S3Endpoint, config.S3Region, config.S3PathStyle,
                config.S3AccessKey, config.S3SecretKey, config.S3Prefix))
            : new FilesystemBucket(config.BlocksFilesystemDir ?? Path.Combine(config.DataDir, "bucket"));
        return _bucket = new RetryingBucket(inner, logger: services.GetRequiredService<ILogger<RetryingBucket>>());
    }

    private BucketBlockStore BlockStoreFrom(AmphoraConfig config, IServiceProvider services, Func<string, string, bool>? servedLocally = null) =>
        new(BucketFrom(config, services), config.BlocksSyncInterval, services.GetRequiredService<ILogger<BucketBlockStore>>())
        {
            Exclude = servedLocally,
            IndexMaxStale = config.BucketIndexMaxStale,
        };
}
