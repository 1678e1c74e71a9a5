using Amphora.Querier.Frontend;
using Xunit;

namespace Amphora.Querier.Tests.Frontend;

/// <summary>Issue 24: one workspace's flood of queries does not starve another's; cancelled waiters give their turn away.</summary>
public sealed class FairSchedulerTests
{
    /// <summary>Queries that run until released, recording the order in which they got a slot.</summary>
    private sealed class Jobs(FairScheduler scheduler)
    {
        private readonly List<string> _started = new();
        private readonly Dictionary<string, TaskCompletionSource<int>> _release = new();

        public IReadOnlyList<string> Started
        {
            get { lock (_started) return _started.ToList(); }
        }

        public Task<int> Submit(string workspace, string name, CancellationToken ct = default)
        {
            var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_started) _release[name] = release;
            return scheduler.RunAsync(workspace, () =>
            {
                lock (_started) _started.Add(name);
                return release.Task;
            }, ct);
        }

        public void Release(string name)
        {
            TaskCompletionSource<int> release;
            lock (_started) release = _release[name];
            release.SetResult(0);
        }

        public async Task WaitStartedAsync(int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Started.Count < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"only {Started.Count} of {count} jobs started: {string.Join(",", Started)}");
                await Task.Delay(5);
            }
        }
    }

    [Fact]
    public async Task A_flooding_workspace_waits_its_turn_behind_a_quiet_one()
    {
        var scheduler = new FairScheduler(slots: 2, maxQueuedPerWorkspace: 100);
        var jobs = new Jobs(scheduler);
        var flood = Enumerable.Range(0, 40).Select(i => jobs.Submit("ws-flood", "a" + i)).ToList();
        await jobs.WaitStartedAsync(2);
        var quiet = jobs.Submit("ws-quiet", "b0");
        Assert.Equal(39, scheduler.Queued);

        // The flood's queue and the quiet workspace's take turns: of the next two freed slots, one goes to the quiet
        // workspace, not after the 38 flood queries queued before it.
        jobs.Release("a0");
        await jobs.WaitStartedAsync(3);
        jobs.Release("a1");
        await jobs.WaitStartedAsync(4);
        Assert.Contains("b0", jobs.Started.Take(4));
        jobs.Release("b0");
        await quiet;

        // With only the flood left, its queries run in the order they came.
        for (int i = 2; i < 40; i++)
        {
            await jobs.WaitStartedAsync(Math.Min(i + 3, 41)); // the previous grant has started before the next release
            jobs.Release("a" + i);
        }
        await Task.WhenAll(flood);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => "a" + i), jobs.Started.Where(n => n[0] == 'a'));
        Assert.Equal((0, 0), (scheduler.Running, scheduler.Queued));
    }

    [Fact]
    public async Task Workspaces_take_turns_one_query_each()
    {
        var scheduler = new FairScheduler(slots: 1, maxQueuedPerWorkspace: 100);
        var jobs = new Jobs(scheduler);
        var first = jobs.Submit("ws-a", "a0");
        await jobs.WaitStartedAsync(1);
        var rest = new List<Task<int>>();
        for (int i = 1; i <= 3; i++) rest.Add(jobs.Submit("ws-a", "a" + i));
        for (int i = 0; i < 3; i++) rest.Add(jobs.Submit("ws-b", "b" + i));
        rest.Add(jobs.Submit("ws-c", "c0"));
        string[] order = ["a0", "a1", "b0", "c0", "a2", "b1", "a3", "b2"];
        for (int i = 0; i < order.Length; i++)
        {
            await jobs.WaitStartedAsync(i + 1);
            Assert.Equal(order[i], jobs.Started[i]);
            jobs.Release(order[i]);
        }
        await Task.WhenAll(rest.Append(first));
    }

    [Fact]
    public async Task A_cancelled_waiter_gives_its_slot_to_the_next_and_a_full_queue_is_refused()
    {
        var scheduler = new FairScheduler(slots: 1, maxQueuedPerWorkspace: 2);
        var jobs = new Jobs(scheduler);
        var running = jobs.Submit("ws-a", "a0");
        await jobs.WaitStartedAsync(1);
        using var cancel = new CancellationTokenSource();
        var cancelled = jobs.Submit("ws-a", "a1", cancel.Token);
        var waiting = jobs.Submit("ws-a", "a2");
        var full = await Assert.ThrowsAsync<QueueFullException>(() => jobs.Submit("ws-a", "a3"));
        Assert.Contains("--query-frontend.max-queued-per-workspace", full.Message);
        var other = jobs.Submit("ws-b", "b0"); // another workspace's queue is its own

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        jobs.Release("a0");
        await jobs.WaitStartedAsync(2);
        Assert.Equal("b0", jobs.Started[1]);
        jobs.Release("b0");
        await jobs.WaitStartedAsync(3);
        Assert.Equal("a2", jobs.Started[2]);
        jobs.Release("a2");
        await Task.WhenAll(running, waiting, other);
        Assert.DoesNotContain("a1", jobs.Started);
        Assert.Equal((0, 0), (scheduler.Running, scheduler.Queued));
    }
}
