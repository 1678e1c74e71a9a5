namespace Amphora.Bucket.Tests;

/// <summary>
/// An S3 service that accepts If-Match and If-None-Match and ignores them (stock s3rver 3.7.1; older or partial
/// S3-compatible services): the probe must find it, because concurrent changes of the tenancy state would then overwrite
/// each other without a conflict.
/// </summary>
public sealed class S3ConditionsIgnoredTests(S3ServerIgnoringConditionsFixture server) : IClassFixture<S3ServerIgnoringConditionsFixture>
{
    [Fact]
    public async Task The_probe_reports_a_bucket_that_ignores_conditional_writes()
    {
        using var bucket = server.NewBucket();
        var defect = await ConditionalWrites.ProbeAsync(bucket, "tenancy/");

        Assert.NotNull(defect);
        Assert.Equal(ConditionalWriteCheck.CreateOverExisting, defect.Check);
        Assert.Contains("If-None-Match", defect.Message);
        Assert.Empty(await bucket.ListAsync("tenancy/", recursive: true));
    }

    [Fact]
    public async Task Without_the_probe_a_stale_write_would_silently_replace_a_newer_one()
    {
        // What the probe protects against, shown directly: the write computed from v1 is not refused.
        using var bucket = server.NewBucket();
        string v1 = await bucket.PutIfVersionAsync("tenancy/ws.json", "one"u8.ToArray(), null);
        await bucket.PutIfVersionAsync("tenancy/ws.json", "two"u8.ToArray(), v1);
        await bucket.PutIfVersionAsync("tenancy/ws.json", "stale"u8.ToArray(), v1);
        Assert.Equal("stale"u8.ToArray(), await bucket.GetAsync("tenancy/ws.json"));
    }
}
