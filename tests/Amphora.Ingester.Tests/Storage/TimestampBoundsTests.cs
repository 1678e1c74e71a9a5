using Amphora.Ingester.Storage;
using Amphora.Model;
using Amphora.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Ingester.Tests.Storage;

/// <summary>Sample times anywhere in int64: the head refuses what it cannot hold, the cutter's work follows the data.</summary>
public sealed class TimestampBoundsTests : IDisposable
{
    private const long Range = 600_000; // 10-minute blocks
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private readonly string _dir = Directory.CreateTempSubdirectory("amphora-bounds-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private Task<TsdbStorage> OpenAsync() => TsdbStorage.OpenAsync(_dir, new TsdbOptions
    {
        BlockRange = TimeSpan.FromMilliseconds(Range),
        CutInterval = TimeSpan.Zero,
        Fsync = Amphora.Tsdb.Wal.FsyncPolicy.Never,
    }, NullLogger.Instance);

    private static async Task<AppendStatus> WriteAsync(TsdbStorage storage, string series, long t, double v = 1)
    {
        var appender = storage.Appender("ws");
        ulong r = 0;
        var status = appender.Append(ref r, Labels.FromStrings("__name__", series), t, v);
        await appender.CommitAsync();
        return status;
    }

    private static async Task<List<long>> TimesAsync(TsdbStorage storage, string series)
    {
        using var q = storage.ForWorkspace("ws").Querier(long.MinValue, long.MaxValue);
        var set = await q.SelectAsync(true, null, [LabelMatcher.Equal("__name__", series)]);
        var times = new List<long>();
        while (set.Next())
        {
            var it = set.At().Iterator();
            while (it.Next() == ValueType.Float) times.Add(it.AtT());
        }
        return times;
    }

    /// <summary>The cut must finish long before the deadline; stepping through every empty range would take hours or forever.</summary>
    private static async Task<int> CutWithinAsync(TsdbStorage storage, TimeSpan deadline)
    {
        var cut = storage.CutBlocksAsync();
        var finished = await Task.WhenAny(cut, Task.Delay(deadline));
        Assert.True(finished == cut, $"the block cut did not finish within {deadline}");
        return await cut;
    }

    [Theory]
    [InlineData(-4611686018427387904L)] // -2^62: once looped forever
    [InlineData(long.MinValue)]
    [InlineData(0L)] // 1970: once held the cutter for minutes
    public async Task A_sample_far_in_the_past_costs_one_block_and_current_samples_stay_accepted(long past)
    {
        using var storage = await OpenAsync();
        Assert.Equal(AppendStatus.Ok, await WriteAsync(storage, "old", past));
        Assert.Equal(AppendStatus.Ok, await WriteAsync(storage, "current", Now));

        Assert.Equal(1, await CutWithinAsync(storage, TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await CutWithinAsync(storage, TimeSpan.FromSeconds(30)));

        Assert.Equal(AppendStatus.Ok, await WriteAsync(storage, "current", Now + 15_000));
        Assert.Equal([Now, Now + 15_000], await TimesAsync(storage, "current"));
        Assert.Equal([past], await TimesAsync(storage, "old")); // served from the block cut for it
    }

    [Fact]
    public async Task A_sample_at_the_largest_time_does_not_stop_the_cutter()
    {
        using var storage = await OpenAsync();
        Assert.Equal(AppendStatus.Ok, await WriteAsync(storage, "current", Now));
        Assert.Equal(AppendStatus.Ok, await WriteAsync(storage, "future", long.MaxValue));
        // The range holding the current sample is cut; the one holding long.MaxValue can never be 1.5 ranges behind.
        Assert.Equal(1, await CutWithinAsync(storage, TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await CutWithinAsync(storage, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_sample_more_than_half_a_block_range_behind_the_newest_is_too_old_even_for_a_new_series()
    {
        using var storage = await OpenAsync();
        Assert.Equal(AppendStatus.Ok, await WriteAsync(storage, "current", Now));
        Assert.Equal(AppendStatus.TooOld, await WriteAsync(storage, "late", Now - Range / 2 - 1));
        Assert.Equal(AppendStatus.TooOld, await WriteAsync(storage, "late", 0));
        Assert.Equal(AppendStatus.Ok, await WriteAsync(storage, "late", Now - Range / 2));
        Assert.Equal([Now - Range / 2], await TimesAsync(storage, "late"));
    }
}
