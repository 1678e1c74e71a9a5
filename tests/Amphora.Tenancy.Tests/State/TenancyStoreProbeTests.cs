using Amphora.Bucket;
using Amphora.Tenancy.State;

namespace Amphora.Tenancy.Tests.State;

/// <summary>The start-up check that the bucket really refuses writes at a wrong version.</summary>
public sealed class TenancyStoreProbeTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_bucket_that_honours_conditions_passes_and_one_that_ignores_them_is_reported()
    {
        var honest = new TenancyStore(new FilesystemBucket(_dir.File("honest")), "honest", _dir.File("a"), TimeSpan.FromHours(1));
        await honest.StartAsync(CancellationToken.None);
        await honest.StopAsync(CancellationToken.None);
        Assert.Null(honest.ConditionalWriteDefect);

        var careless = new TenancyStore(new IgnoringConditionsBucket(new FilesystemBucket(_dir.File("careless"))), "careless", _dir.File("b"),
            TimeSpan.FromHours(1));
        await careless.StartAsync(CancellationToken.None);
        await careless.StopAsync(CancellationToken.None);
        Assert.Equal(ConditionalWriteCheck.CreateOverExisting, careless.ConditionalWriteDefect?.Check);
        Assert.Empty(await new FilesystemBucket(_dir.File("careless")).ListAsync("tenancy/", recursive: true)); // the probe cleaned up
    }
}
