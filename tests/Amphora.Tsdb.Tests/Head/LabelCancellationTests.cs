using Amphora.Model;
using Amphora.Tsdb.Blocks;
using static Amphora.Tsdb.Tests.Blocks.BlockTestData;

namespace Amphora.Tsdb.Tests.Head;

/// <summary>
/// Issue 13, finding 6: the head's and the blocks' loops behind the series, label names and label values APIs observe
/// the request's token, so a timed-out or abandoned request stops matching (a regex over millions of series) instead
/// of finishing its work for nobody. A cancelled token makes them throw; an uncancelled one gives the full answer.
/// </summary>
public sealed class LabelCancellationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("amphora-label-cancel-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static Amphora.Tsdb.Head HeadWith(int series)
    {
        var head = new Amphora.Tsdb.Head(7_200_000);
        ulong next = 0;
        for (int i = 0; i < series; i++)
        {
            var s = head.GetOrCreate(Labels.FromStrings("__name__", "m", "instance", "i" + i, "job", "j" + (i % 10)), () => ++next, _ => { }, out _);
            lock (s.Lock) s.Apply(1000, i);
        }
        head.Observe(1000, 1000);
        return head;
    }

    private static readonly LabelMatcher[] Regex = [LabelMatcher.Create(MatchType.Regex, "instance", "i[0-9]+")];

    [Fact]
    public async Task The_heads_label_values_label_names_and_select_stop_on_a_cancelled_token()
    {
        var head = HeadWith(5000);
        using var q = head.Querier(0, 10_000);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => q.LabelValuesAsync("job", Regex, cancelled.Token).AsTask());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => q.LabelNamesAsync(Regex, cancelled.Token).AsTask());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => q.SelectAsync(false, null, Regex, cancelled.Token).AsTask());

        Assert.Equal(10, (await q.LabelValuesAsync("job", Regex)).Count);
        Assert.Equal(["__name__", "instance", "job"], await q.LabelNamesAsync(Regex));
    }

    [Fact]
    public async Task A_blocks_label_values_and_label_names_stop_on_a_cancelled_token()
    {
        var (_, dir) = WriteBlock(_dir, Generate(seriesCount: 60, samplesPerSeries: 20, seed: 3));
        var block = await Block.OpenAsync(new LocalBlockFiles(dir));
        using var q = new BlocksQuerier([block], long.MinValue, long.MaxValue);
        LabelMatcher[] matchers = [LabelMatcher.Create(MatchType.Regex, "instance", "host-.*")];
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => q.LabelValuesAsync("job", matchers, cancelled.Token).AsTask());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => q.LabelNamesAsync(matchers, cancelled.Token).AsTask());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => q.SelectAsync(false, null, matchers, cancelled.Token).AsTask());

        Assert.Equal(["app", "node"], await q.LabelValuesAsync("job", matchers));
    }
}
