using Xunit;

namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>Waits for a condition that background work (block cuts, uploads, compaction) makes true.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="what"/> (evaluated then) after the timeout.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, Func<string> what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(100);
        }
        Assert.Fail($"timed out waiting for {what()}");
    }
}
