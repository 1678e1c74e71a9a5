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

    /// <summary>Polls an HTTP call until it answers <paramref name="status"/>; fails with the last answer after the timeout.</summary>
    public static async Task StatusAsync(Func<Task<(System.Net.HttpStatusCode Status, string Body)>> call, System.Net.HttpStatusCode status,
        TimeSpan timeout, string what)
    {
        (System.Net.HttpStatusCode Status, string Body) last = default;
        await HoldsAsync(async () => (last = await call()).Status == status, () => $"{what}: last answer {(int)last.Status} {last.Body}", timeout);
    }

    /// <summary>Polls an HTTP call until it answers 200 with a body containing <paramref name="text"/>.</summary>
    public static async Task BodyAsync(Func<Task<(System.Net.HttpStatusCode Status, string Body)>> call, string text, TimeSpan timeout, string what)
    {
        (System.Net.HttpStatusCode Status, string Body) last = default;
        await HoldsAsync(async () => (last = await call()).Status == System.Net.HttpStatusCode.OK && last.Body.Contains(text, StringComparison.Ordinal),
            () => $"{what}: last answer {(int)last.Status} {last.Body}", timeout);
    }
}
