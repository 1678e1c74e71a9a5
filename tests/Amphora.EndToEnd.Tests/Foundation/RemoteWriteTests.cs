using System.Net;
using System.Text;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Foundation;

/// <summary>
/// The remote-write receiver of a real amphora process: every kind of bad input gets its status and a message naming the series
/// and the rule, the valid series of the same request are stored, and a query afterwards shows nothing of the rejected ones.
/// </summary>
public sealed class RemoteWriteTests(AmphoraFixture amphora) : IClassFixture<AmphoraFixture>
{
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static IEnumerable<(byte[], byte[])> Raw(params (string Name, string Value)[] labels) =>
        labels.Select(l => (Encoding.UTF8.GetBytes(l.Name), Encoding.UTF8.GetBytes(l.Value)));

    public static TheoryData<string, string, string> InvalidSeries => new()
    {
        // case, labels of the invalid series (name="value" pairs in wire order), what the message must contain
        { "missing metric name", "job=\"x\"", "err-amphora-missing-metric-name" },
        { "invalid metric name", "__name__=\"1bad\"", "err-amphora-invalid-metric-name" },
        { "invalid label name", "__name__=\"m_CASE\",a-b=\"1\"", "err-amphora-invalid-label" },
        { "reserved label name", "__name__=\"m_CASE\",__secret=\"1\"", "err-amphora-invalid-label" },
        { "labels not sorted", "__name__=\"m_CASE\",b=\"1\",a=\"2\"", "err-amphora-labels-not-sorted" },
        { "duplicate label names", "__name__=\"m_CASE\",a=\"1\",a=\"2\"", "err-amphora-duplicate-label-names" },
        { "label name too long", "__name__=\"m_CASE\"," + new string('n', 1025) + "=\"1\"", "err-amphora-label-name-too-long" },
        { "label value too long", "__name__=\"m_CASE\",a=\"" + new string('v', 2049) + "\"", "err-amphora-label-value-too-long" },
        { "too many labels", "__name__=\"m_CASE\"," + string.Join(",", Enumerable.Range(0, 70).Select(i => $"l{i:D2}=\"v\"")), "err-amphora-max-label-names-per-series" },
    };

    [Theory]
    [MemberData(nameof(InvalidSeries))]
    public async Task An_invalid_series_is_rejected_with_400_naming_it_while_the_valid_ones_are_stored(string @case, string labels, string expected)
    {
        string tag = "rw_" + @case.Replace(' ', '_');
        string badLabels = labels.Replace("m_CASE", tag + "_bad");
        using var writer = amphora.Writer();
        var request = new WriteRequestBuilder()
            .Series($"__name__=\"{tag}_good\",job=\"a\"", (Now, 1))
            .Series(badLabels, (Now, 2))
            .Series($"__name__=\"{tag}_good\",job=\"b\"", (Now, 3));
        var result = await writer.PushAsync("rw-validation", request);

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Contains(expected, result.Body);
        Assert.Contains("series", result.Body);

        using var api = amphora.Api("rw-validation");
        var good = await api.QueryAsync($"{{__name__=\"{tag}_good\"}}", Now);
        Assert.Equal(["1", "3"], SampleValues(good));
        // Nothing of the rejected series: its value 2 is nowhere in the workspace at that instant.
        var all = await api.QueryAsync($"{{__name__=~\"{tag}.*\"}} == 2", Now);
        Assert.Empty(SampleValues(all));
    }

    [Fact]
    public async Task Invalid_utf8_in_a_label_value_is_rejected_and_not_stored()
    {
        using var writer = amphora.Writer();
        var bad = Raw(("__name__", "rw_utf8")).Append((Encoding.UTF8.GetBytes("a"), new byte[] { 0x66, 0xff, 0xfe }));
        var request = new WriteRequestBuilder().Series(bad, (Now, 1)).Series("__name__=\"rw_utf8\",a=\"ok\"", (Now, 2));
        var result = await writer.PushAsync("rw-validation", request);
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Contains("err-amphora-invalid-utf8", result.Body);
        using var api = amphora.Api("rw-validation");
        Assert.Equal(["2"], SampleValues(await api.QueryAsync("rw_utf8", Now)));
    }

    [Fact]
    public async Task A_sample_older_than_the_out_of_order_window_is_rejected_and_the_rest_kept()
    {
        using var writer = amphora.Writer();
        Assert.Equal(HttpStatusCode.NoContent, (await writer.PushAsync("rw-ooo", new WriteRequestBuilder()
            .Series("__name__=\"rw_ooo\",a=\"1\"", (Now, 10)))).Status);
        var result = await writer.PushAsync("rw-ooo", new WriteRequestBuilder()
            .Series("__name__=\"rw_ooo\",a=\"1\"", (Now - 600_000, 99))
            .Series("__name__=\"rw_ooo\",a=\"2\"", (Now, 20)));
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Contains("rw_ooo", result.Body);
        Assert.Contains("out-of-order-window", result.Body);
        using var api = amphora.Api("rw-ooo");
        Assert.Equal(["10", "20"], SampleValues(await api.QueryAsync("rw_ooo", Now)));
        Assert.Empty(SampleValues(await api.QueryAsync("rw_ooo", Now - 600_000)));
    }

    [Theory]
    [InlineData(86_400_000L)] // one day ahead: once made the workspace refuse current samples for a day after the next cut
    [InlineData(long.MaxValue)] // once did so across restarts
    public async Task A_sample_too_far_in_the_future_is_rejected_naming_the_grace_period_and_current_samples_stay_accepted(long ahead)
    {
        long future = ahead == long.MaxValue ? long.MaxValue : Now + ahead;
        string ws = "rw-future-" + (ahead == long.MaxValue ? "max" : "day");
        using var writer = amphora.Writer();
        var result = await writer.PushAsync(ws, new WriteRequestBuilder()
            .Series("__name__=\"rw_future\",a=\"1\"", (Now, 1), (future, 99))
            .Series("__name__=\"rw_future\",a=\"2\"", (Now, 2)));
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Contains("err-amphora-too-far-in-future", result.Body);
        Assert.Contains("validation.create-grace-period", result.Body);
        Assert.Contains("rw_future", result.Body);

        // A sample within the grace period is accepted; the current ones of the same request were kept.
        Assert.Equal(HttpStatusCode.NoContent, (await writer.PushAsync(ws, new WriteRequestBuilder()
            .Series("__name__=\"rw_future\",a=\"2\"", (Now + 60_000, 3)))).Status);
        using var api = amphora.Api(ws);
        Assert.Equal(["1", "2"], SampleValues(await api.QueryAsync("rw_future", Now)));
        Assert.Equal(HttpStatusCode.NoContent, (await writer.PushAsync(ws, new WriteRequestBuilder()
            .Series("__name__=\"rw_future\",a=\"1\"", (Now + 1000, 4)))).Status);
    }

    [Fact]
    public async Task A_sample_far_in_the_past_is_rejected_as_too_old_with_a_400_not_a_500()
    {
        using var writer = amphora.Writer();
        Assert.Equal(HttpStatusCode.NoContent, (await writer.PushAsync("rw-past", new WriteRequestBuilder()
            .Series("__name__=\"rw_past\"", (Now, 1)))).Status);
        foreach (long past in new[] { 0L, -4611686018427387904L, long.MinValue })
        {
            var result = await writer.PushAsync("rw-past", new WriteRequestBuilder().Series("__name__=\"rw_past\",a=\"new\"", (past, 2)));
            Assert.Equal(HttpStatusCode.BadRequest, result.Status);
            Assert.Contains("err-amphora-sample-too-old", result.Body);
            Assert.Contains("tsdb.block-range", result.Body);
        }
    }

    [Fact]
    public async Task A_duplicate_timestamp_with_another_value_is_rejected_and_the_same_value_accepted()
    {
        using var writer = amphora.Writer();
        Assert.Equal(HttpStatusCode.NoContent, (await writer.PushAsync("rw-dup", new WriteRequestBuilder()
            .Series("__name__=\"rw_dup\"", (Now, 1)))).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await writer.PushAsync("rw-dup", new WriteRequestBuilder()
            .Series("__name__=\"rw_dup\"", (Now, 1)))).Status);
        var result = await writer.PushAsync("rw-dup", new WriteRequestBuilder().Series("__name__=\"rw_dup\"", (Now, 5)));
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Contains("err-amphora-sample-duplicate-timestamp", result.Body);
        using var api = amphora.Api("rw-dup");
        Assert.Equal(["1"], SampleValues(await api.QueryAsync("rw_dup", Now)));
    }

    [Fact]
    public async Task Undecodable_snappy_or_protobuf_is_400_and_stores_nothing()
    {
        using var writer = amphora.Writer();
        var valid = new WriteRequestBuilder().Series("__name__=\"rw_undecodable\"", (Now, 1)).Encode();
        var notSnappy = await writer.PostAsync("/api/v1/push", "rw-undecodable", valid);
        Assert.Equal(HttpStatusCode.BadRequest, notSnappy.Status);
        Assert.Contains("snappy", notSnappy.Body);

        // Valid snappy around a truncated protobuf (the last byte of a length-delimited field missing).
        var truncated = IronSnappy.Snappy.Encode(valid.AsSpan(0, valid.Length - 1));
        var notProto = await writer.PostAsync("/api/v1/push", "rw-undecodable", truncated);
        Assert.Equal(HttpStatusCode.BadRequest, notProto.Status);
        Assert.Contains("protobuf", notProto.Body);

        using var api = amphora.Api("rw-undecodable");
        Assert.Empty(SampleValues(await api.QueryAsync("rw_undecodable", Now)));
    }

    [Fact]
    public async Task A_wrong_content_type_is_415_and_a_wrong_encoding_is_rejected()
    {
        using var writer = amphora.Writer();
        var body = IronSnappy.Snappy.Encode(new WriteRequestBuilder().Series("__name__=\"rw_ct\"", (Now, 1)).Encode());
        var json = await writer.PostAsync("/api/v1/push", "rw-ct", body, contentType: "application/json");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.Status);
        var gzip = await writer.PostAsync("/api/v1/push", "rw-ct", body, contentEncoding: "gzip");
        Assert.True(gzip.Status is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, $"gzip got {gzip.Status}");
        using var api = amphora.Api("rw-ct");
        Assert.Empty(SampleValues(await api.QueryAsync("rw_ct", Now)));
    }

    [Fact]
    public async Task A_body_over_the_decompressed_size_limit_is_413_naming_the_setting()
    {
        using var writer = amphora.Writer();
        // 11 MiB of protobuf that snappy compresses to a few hundred KiB: one series with a long run of samples.
        var request = new WriteRequestBuilder();
        var samples = Enumerable.Range(0, 600_000).Select(i => (Now - 600_000 + i, 1.0)).ToArray();
        request.Series("__name__=\"rw_big\"", samples);
        var result = await writer.PushAsync("rw-big", request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, result.Status);
        Assert.Contains("distributor.max-recv-msg-size", result.Body);
        using var api = amphora.Api("rw-big");
        Assert.Empty(SampleValues(await api.QueryAsync("rw_big", Now)));
    }

    [Fact]
    public async Task A_stale_marker_ends_the_series_and_metadata_is_kept()
    {
        using var writer = amphora.Writer();
        double staleNaN = BitConverter.Int64BitsToDouble(0x7ff0000000000002);
        var result = await writer.PushToWorkspacePathAsync("rw-stale", new WriteRequestBuilder()
            .Series("__name__=\"rw_stale\"", (Now - 2000, 7), (Now - 1000, staleNaN))
            .Metadata(2, "rw_stale", "A gauge that goes stale."));
        Assert.Equal(HttpStatusCode.NoContent, result.Status);
        using var api = amphora.WorkspaceApi("rw-stale");
        Assert.Equal(["7"], SampleValues(await api.QueryAsync("rw_stale", Now - 1500)));
        Assert.Empty(SampleValues(await api.QueryAsync("rw_stale", Now)));
        var metadata = await api.GetAsync("metadata");
        Assert.Equal("""{"status":"success","data":{"rw_stale":[{"type":"gauge","help":"A gauge that goes stale.","unit":""}]}}""", metadata.Body);
    }

    [Fact]
    public async Task Workspaces_are_isolated_in_query_series_labels_and_label_values()
    {
        using var writer = amphora.Writer();
        Assert.Equal(HttpStatusCode.NoContent, (await writer.PushAsync("iso-a", new WriteRequestBuilder()
            .Series("__name__=\"iso_metric\",secret=\"only-a\"", (Now, 1)))).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await writer.PushToWorkspacePathAsync("iso-b", new WriteRequestBuilder()
            .Series("__name__=\"iso_other\",visible=\"b\"", (Now, 2)))).Status);

        foreach (var (mine, other) in new[] { ("iso-a", "iso-b"), ("iso-b", "iso-a") })
        {
            foreach (var api in new[] { amphora.Api(other), amphora.WorkspaceApi(other) })
            {
                using var _ = api;
                string mineMetric = mine == "iso-a" ? "iso_metric" : "iso_other";
                Assert.Empty(SampleValues(await api.QueryAsync(mineMetric, Now)));
                var series = await api.GetAsync("series", ("match[]", mineMetric));
                Assert.Equal("[]", series.Json.GetProperty("data").GetRawText());
                var labels = (await api.GetAsync("labels")).Json.GetProperty("data").EnumerateArray().Select(e => e.GetString()).ToList();
                Assert.DoesNotContain(mine == "iso-a" ? "secret" : "visible", labels);
                var names = (await api.GetAsync("label/__name__/values")).Json.GetProperty("data").EnumerateArray().Select(e => e.GetString()).ToList();
                Assert.DoesNotContain(mineMetric, names);
            }
        }
        using var a = amphora.Api("iso-a");
        Assert.Equal(["only-a"], (await a.GetAsync("label/secret/values")).Json.GetProperty("data").EnumerateArray().Select(e => e.GetString()!));
    }

    [Fact]
    public async Task A_push_without_a_workspace_is_refused()
    {
        using var writer = amphora.Writer();
        var body = IronSnappy.Snappy.Encode(new WriteRequestBuilder().Series("__name__=\"rw_noorg\"", (Now, 1)).Encode());
        var result = await writer.PostAsync("/api/v1/push", null, body);
        Assert.True(result.Status is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest, $"got {result.Status}: {result.Body}");
        Assert.Contains("X-Scope-OrgID", result.Body);
    }

    private static List<string> SampleValues(PromApiClient.Response response)
    {
        Assert.True(response.Status == HttpStatusCode.OK, $"query failed: {response.Status} {response.Body}");
        var result = response.Json.GetProperty("data").GetProperty("result");
        return result.EnumerateArray().Select(s => s.GetProperty("value")[1].GetString()!).Order(StringComparer.Ordinal).ToList();
    }
}
