using Amphora.Model;
using Amphora.Storage;
using Xunit;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Core.Tests.Storage;

public sealed class MergeSeriesSetTests
{
    private static ArraySeries Series(string name, params (long T, double V)[] samples) =>
        new(Labels.FromStrings("__name__", name), samples.Select(s => s.T).ToArray(), samples.Select(s => s.V).ToArray());

    private static List<(string Name, List<(long, double)> Samples)> Drain(ISeriesSet set)
    {
        var result = new List<(string, List<(long, double)>)>();
        while (set.Next())
        {
            var it = set.At().Iterator();
            var samples = new List<(long, double)>();
            while (it.Next() == ValueType.Float) samples.Add(it.At());
            Assert.Null(it.Err);
            result.Add((set.At().Labels.Get("__name__"), samples));
        }
        Assert.Null(set.Err);
        return result;
    }

    [Fact]
    public void Three_replicas_of_a_series_become_one_with_each_timestamp_once()
    {
        var a = new ListSeriesSet([Series("m", (1, 1), (2, 2), (4, 4))]);
        var b = new ListSeriesSet([Series("m", (2, 2), (3, 3))]);
        var c = new ListSeriesSet([Series("m", (1, 1), (4, 4), (5, 5))]);
        var merged = Drain(new MergeSeriesSet([a, b, c]));
        var only = Assert.Single(merged);
        Assert.Equal([(1L, 1.0), (2, 2), (3, 3), (4, 4), (5, 5)], only.Samples);
    }

    [Fact]
    public void Distinct_series_stay_sorted_by_labels()
    {
        var a = new ListSeriesSet([Series("a", (1, 1)), Series("c", (1, 3))]);
        var b = new ListSeriesSet([Series("b", (1, 2)), Series("c", (2, 4)), Series("d", (1, 5))]);
        var merged = Drain(new MergeSeriesSet([a, b]));
        Assert.Equal(["a", "b", "c", "d"], merged.Select(m => m.Name));
        Assert.Equal([(1L, 3.0), (2, 4)], merged[2].Samples);
    }

    [Fact]
    public void At_equal_timestamps_the_first_input_wins()
    {
        var head = new ListSeriesSet([Series("m", (1, 10))]);
        var block = new ListSeriesSet([Series("m", (1, 99))]);
        Assert.Equal([(1L, 10.0)], Assert.Single(Drain(new MergeSeriesSet([head, block]))).Samples);
    }

    [Fact]
    public void Seek_positions_every_input_and_never_moves_backwards()
    {
        var merged = new MergedSeries(Labels.FromStrings("__name__", "m"),
            [Series("m", (1, 1), (5, 5), (9, 9)), Series("m", (2, 2), (6, 6))]);
        var it = merged.Iterator();
        Assert.Equal(ValueType.Float, it.Seek(5));
        Assert.Equal(5, it.AtT());
        Assert.Equal(ValueType.Float, it.Seek(3));
        Assert.Equal(5, it.AtT());
        Assert.Equal(ValueType.Float, it.Next());
        Assert.Equal(6, it.AtT());
        Assert.Equal(ValueType.Float, it.Seek(7));
        Assert.Equal(9, it.AtT());
        Assert.Equal(ValueType.None, it.Next());
        Assert.Equal(ValueType.None, it.Seek(100));
    }

    [Fact]
    public void An_error_in_one_input_fails_the_merge()
    {
        var ok = new ListSeriesSet([Series("m", (1, 1))]);
        var failed = new ErrorSeriesSet(new IOException("block unreadable"));
        var set = new MergeSeriesSet([ok, failed]);
        Assert.False(set.Next());
        Assert.IsType<IOException>(set.Err);
    }
}
