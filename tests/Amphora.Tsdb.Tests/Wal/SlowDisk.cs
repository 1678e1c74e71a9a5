using Amphora.Tsdb.Wal;

namespace Amphora.Tsdb.Tests.Wal;

/// <summary>A disk whose first fsync hangs until <see cref="Release"/>: what a slow fsync does to everyone else.</summary>
internal sealed class SlowDisk : IDisposable
{
    private readonly SemaphoreSlim _syncing = new(0);
    private readonly ManualResetEventSlim _release = new();
    private int _calls;

    public WalWriter Writer(string dir) => new(dir)
    {
        FlushToDisk = handle =>
        {
            if (Interlocked.Increment(ref _calls) == 1)
            {
                _syncing.Release();
                _release.Wait(TimeSpan.FromSeconds(30));
            }
            RandomAccess.FlushToDisk(handle);
        },
    };

    /// <summary>Returns once the first fsync has started (and hangs).</summary>
    public async Task WaitUntilSyncingAsync() =>
        Assert.True(await _syncing.WaitAsync(TimeSpan.FromSeconds(10)), "no fsync started");

    public void Release() => _release.Set();

    public void Dispose()
    {
        _release.Set();
        _syncing.Dispose();
        _release.Dispose();
    }
}
