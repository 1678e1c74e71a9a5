namespace Amphora.Compactor.Tests;

/// <summary>A clock that starts at <paramref name="start"/> and moves on by <paramref name="step"/> with every reading, as a
/// compactor's clock does while it compacts many series (each mark it writes is later than the start of its pass).</summary>
internal sealed class TickingClock(DateTimeOffset start, TimeSpan step) : TimeProvider
{
    private long _readings;

    public override DateTimeOffset GetUtcNow() => start + step * Interlocked.Increment(ref _readings);
}

/// <summary>A clock that stands still until the test moves it.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
