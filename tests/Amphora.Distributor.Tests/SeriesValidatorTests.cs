using Amphora.Distributor.Prompb;
using Google.Protobuf;
using Xunit;

namespace Amphora.Distributor.Tests;

public sealed class SeriesValidatorTests
{
    private static TimeSeries Series(params string[] nameValuePairs)
    {
        var series = new TimeSeries();
        for (int i = 0; i < nameValuePairs.Length; i += 2)
            series.Labels.Add(new Label { Name = ByteString.CopyFromUtf8(nameValuePairs[i]), Value = ByteString.CopyFromUtf8(nameValuePairs[i + 1]) });
        return series;
    }

    [Fact]
    public void Labels_with_empty_values_are_dropped_and_the_others_kept_in_order()
    {
        var validator = new SeriesValidator(new ValidationOptions());
        Assert.True(validator.TryValidate(Series("__name__", "up", "a", "", "b", "2", "c", ""), out var labels, out var error));
        Assert.Null(error);
        Assert.Equal(Model.Labels.FromStrings("__name__", "up", "b", "2"), labels);
        Assert.Equal(2, labels.Count);
    }

    [Fact]
    public void Label_lengths_are_counted_in_utf8_bytes_not_characters()
    {
        // "é" is two bytes: 3 characters are 6 bytes.
        var validator = new SeriesValidator(new ValidationOptions { MaxLabelValueLength = 6 });
        Assert.True(validator.TryValidate(Series("__name__", "up", "a", "ééé"), out _, out _));
        Assert.False(validator.TryValidate(Series("__name__", "up", "a", "éééé"), out _, out var error));
        Assert.Equal("err-amphora-label-value-too-long", error!.Id);
        Assert.Contains("is 8 bytes", error.Message);
    }

    [Fact]
    public void Names_are_decoded_once_and_shared_while_invalid_ones_are_refused_every_time()
    {
        var validator = new SeriesValidator(new ValidationOptions());
        string name = "cache_test_" + Guid.NewGuid().ToString("N");
        Assert.True(validator.TryValidate(Series("__name__", name, "job_" + name[^8..], "a"), out var first, out _));
        Assert.True(validator.TryValidate(Series("__name__", name, "job_" + name[^8..], "b"), out var second, out _));
        Assert.Same(first[0].Value, second[0].Value);
        Assert.Same(first[1].Name, second[1].Name);
        Assert.NotSame(first[1].Value, second[1].Value);
        Assert.Equal("b", second[1].Value);

        var invalid = new TimeSeries();
        invalid.Labels.Add(new Label { Name = ByteString.CopyFromUtf8("__name__"), Value = ByteString.CopyFromUtf8("up") });
        invalid.Labels.Add(new Label { Name = ByteString.CopyFrom(0x61, 0xff), Value = ByteString.CopyFromUtf8("1") });
        for (int i = 0; i < 2; i++)
        {
            Assert.False(validator.TryValidate(invalid, out _, out var error));
            Assert.Equal("err-amphora-invalid-label", error!.Id);
        }
    }

    [Fact]
    public void The_name_cache_stops_growing_at_its_cap_and_keeps_what_it_holds()
    {
        var cache = new Utf8StringCache(maxEntries: 3);
        static byte[] Utf8(string s) => System.Text.Encoding.UTF8.GetBytes(s);
        foreach (var text in new[] { "a", "b", "a", "c", "d", "e" }) cache.Add(Utf8(text), text);
        Assert.Equal(3, cache.Count);
        foreach (var kept in new[] { "a", "b", "c" })
        {
            Assert.True(cache.TryGet(Utf8(kept), out var found));
            Assert.Equal(kept, found);
        }
        Assert.False(cache.TryGet(Utf8("d"), out _));
        Assert.False(cache.TryGet(Utf8("ab"), out _));
        var roomy = new Utf8StringCache();
        string longest = new('x', Utf8StringCache.MaxBytes), tooLong = longest + "x";
        roomy.Add(Utf8(longest), longest);
        roomy.Add(Utf8(tooLong), tooLong);
        Assert.True(roomy.TryGet(Utf8(longest), out _));
        Assert.False(roomy.TryGet(Utf8(tooLong), out _));
        Assert.Equal(1, roomy.Count);
    }
}
