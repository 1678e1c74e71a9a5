using System.Diagnostics;
using Amphora.Querier.Tests.Support;
using Xunit;

namespace Amphora.Querier.Tests.Api;

/// <summary>
/// Issue 13, finding 6 (the rest): the series, label names and label values APIs run under --query.timeout and stop when
/// the client leaves, as queries do. The storage here waits until its token is cancelled, as a long loop over a big head
/// or a slow ingester would (the head's and the blocks' own loops observe the token: see Amphora.Tsdb.Tests).
/// </summary>
public sealed class MetadataCancellationTests
{
    public static TheoryData<string> Endpoints() => new() { "series?match[]=up", "labels", "labels?match[]=up", "label/job/values", "label/job/values?match[]=up" };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_metadata_request_past_the_query_timeout_fails_with_503_timeout_and_its_work_is_cancelled(string endpoint)
    {
        var storage = new MemoryStorage { BlockLabelCalls = true };
        await using var server = await ApiServer.StartAsync(storage, new QuerierOptions { Timeout = TimeSpan.FromMilliseconds(300) });
        var watch = Stopwatch.StartNew();
        using var response = await server.Http.GetAsync("/workspaces/ws-a/api/v1/" + endpoint);
        var (status, body) = await ApiInputTests.ReadAsync(response);
        Assert.Equal(503, status);
        Assert.Equal("timeout", body.GetProperty("errorType").GetString());
        Assert.Contains("--query.timeout", body.GetProperty("error").GetString());
        Assert.True(storage.CancelledCalls >= 1, "the storage call was not cancelled");
        // Generous for a loaded 2-core machine; without the timeout the call would wait forever.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"answered after {watch.Elapsed}");
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_client_that_disconnects_cancels_the_metadata_work(string endpoint)
    {
        var storage = new MemoryStorage { BlockLabelCalls = true };
        await using var server = await ApiServer.StartAsync(storage); // the default 2 min timeout: only the disconnect can stop it
        using var leave = new CancellationTokenSource();
        var request = server.Http.GetAsync("/workspaces/ws-a/api/v1/" + endpoint, leave.Token);
        await storage.CallStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (storage.CancelledCalls == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(1, storage.CancelledCalls);
        Assert.Empty(server.Logs.Errors);
    }
}
