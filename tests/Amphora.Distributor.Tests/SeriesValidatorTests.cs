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
}
