using System.Text;

namespace Amphora.Bucket.Tests;

/// <summary>
/// The <see cref="IBucket"/> contract, run against every implementation (one subclass each), so that code tested on a
/// directory behaves the same on S3. Each test class instance gets a fresh, empty bucket.
/// </summary>
public abstract partial class BucketConformanceTests
{
    protected abstract IBucket Bucket { get; }

    private Task UploadAsync(string name, byte[] content) => Bucket.UploadAsync(name, new MemoryStream(content));

    private Task UploadAsync(string name, string content) => UploadAsync(name, Encoding.UTF8.GetBytes(content));

    private static byte[] Bytes(int count)
    {
        var bytes = new byte[count];
        new Random(count).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task An_uploaded_object_reads_back_unchanged()
    {
        await UploadAsync("meta.json", "{\"version\":1}");
        Assert.Equal("{\"version\":1}", Encoding.UTF8.GetString(await Bucket.GetAsync("meta.json")));
    }

    [Fact]
    public async Task A_binary_mebibyte_reads_back_unchanged()
    {
        byte[] content = Bytes(1 << 20);
        await UploadAsync("chunks/000001", content);
        Assert.Equal(content, await Bucket.GetAsync("chunks/000001"));
        Assert.Equal(1 << 20, await Bucket.SizeAsync("chunks/000001"));
    }

    [Fact]
    public async Task An_empty_object_can_be_stored()
    {
        await UploadAsync("empty", []);
        Assert.Empty(await Bucket.GetAsync("empty"));
        Assert.Equal(0, await Bucket.SizeAsync("empty"));
    }

    [Fact]
    public async Task A_stream_that_cannot_seek_uploads_whole()
    {
        byte[] content = Bytes(300_000);
        await Bucket.UploadAsync("streamed", new ForwardOnlyStream(content));
        Assert.Equal(content, await Bucket.GetAsync("streamed"));
    }

    [Fact]
    public async Task An_upload_reads_the_stream_from_its_current_position()
    {
        var stream = new MemoryStream(Encoding.UTF8.GetBytes("skip:keep"));
        stream.Position = 5;
        await Bucket.UploadAsync("partial", stream);
        Assert.Equal("keep", Encoding.UTF8.GetString(await Bucket.GetAsync("partial")));
    }

    [Fact]
    public async Task An_upload_replaces_the_object()
    {
        await UploadAsync("index", "a longer first version");
        await UploadAsync("index", "second");
        Assert.Equal("second", Encoding.UTF8.GetString(await Bucket.GetAsync("index")));
        Assert.Equal(6, await Bucket.SizeAsync("index"));
    }

    [Fact]
    public async Task A_range_inside_the_object_returns_exactly_those_bytes()
    {
        byte[] content = Bytes(100_000);
        await UploadAsync("block", content);
        // No range "bytes=0-0" (offset 0, length 1) and no range of an empty object: s3rver 3.7.1 answers both wrongly.
        Assert.Equal(content[1000..1100], await Bucket.GetRangeAsync("block", 1000, 100));
        Assert.Equal(content[..2], await Bucket.GetRangeAsync("block", 0, 2));
        Assert.Equal(content[5..6], await Bucket.GetRangeAsync("block", 5, 1));
        Assert.Equal(content, await Bucket.GetRangeAsync("block", 0, content.Length));
    }

    [Fact]
    public async Task A_range_reaching_past_the_end_returns_the_bytes_up_to_the_end()
    {
        byte[] content = Bytes(1000);
        await UploadAsync("block", content);
        Assert.Equal(content[990..], await Bucket.GetRangeAsync("block", 990, 100));
        Assert.Equal(content[999..], await Bucket.GetRangeAsync("block", 999, 1));
    }

    [Fact]
    public async Task A_range_starting_at_or_past_the_end_is_empty()
    {
        await UploadAsync("block", Bytes(1000));
        Assert.Empty(await Bucket.GetRangeAsync("block", 1000, 10));
        Assert.Empty(await Bucket.GetRangeAsync("block", 5000, 10));
        Assert.Empty(await Bucket.GetRangeAsync("block", 10, 0));
    }

    [Fact]
    public async Task A_negative_range_is_refused()
    {
        await UploadAsync("block", Bytes(10));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Bucket.GetRangeAsync("block", -1, 5));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Bucket.GetRangeAsync("block", 0, -5));
    }

    [Fact]
    public async Task Exists_and_size_describe_an_object()
    {
        await UploadAsync("dir/object", Bytes(1234));
        Assert.True(await Bucket.ExistsAsync("dir/object"));
        Assert.Equal(1234, await Bucket.SizeAsync("dir/object"));
        Assert.False(await Bucket.ExistsAsync("dir/other"));
        Assert.False(await Bucket.ExistsAsync("missing/object"));
    }

    [Fact]
    public async Task Reading_a_missing_object_throws_object_not_found()
    {
        Assert.Equal("nope/x", (await Assert.ThrowsAsync<ObjectNotFoundException>(() => Bucket.GetAsync("nope/x"))).Name);
        Assert.Equal("nope/x", (await Assert.ThrowsAsync<ObjectNotFoundException>(() => Bucket.GetRangeAsync("nope/x", 0, 10))).Name);
        Assert.Equal("nope/x", (await Assert.ThrowsAsync<ObjectNotFoundException>(() => Bucket.GetRangeAsync("nope/x", 0, 0))).Name);
        Assert.Equal("nope/x", (await Assert.ThrowsAsync<ObjectNotFoundException>(() => Bucket.SizeAsync("nope/x"))).Name);
    }

    [Fact]
    public async Task A_listing_shows_objects_and_directories_directly_under_the_prefix()
    {
        foreach (var name in new[] { "z", "a.txt", "dir/b.txt", "dir/sub/c.txt", "dir/sub/deeper/d", "dir2/e", "dir-x" })
            await UploadAsync(name, name);

        Assert.Equal(["a.txt", "dir-x", "dir/", "dir2/", "z"], await Bucket.ListAsync(""));
        Assert.Equal(["dir/b.txt", "dir/sub/"], await Bucket.ListAsync("dir/"));
        Assert.Equal(["dir/sub/c.txt", "dir/sub/deeper/"], await Bucket.ListAsync("dir/sub/"));
    }

    [Fact]
    public async Task A_recursive_listing_shows_every_object_below_the_prefix_and_no_directories()
    {
        foreach (var name in new[] { "z", "a.txt", "dir/b.txt", "dir/sub/c.txt", "dir/sub/deeper/d", "dir2/e" })
            await UploadAsync(name, name);

        Assert.Equal(["a.txt", "dir/b.txt", "dir/sub/c.txt", "dir/sub/deeper/d", "dir2/e", "z"], await Bucket.ListAsync("", recursive: true));
        Assert.Equal(["dir/b.txt", "dir/sub/c.txt", "dir/sub/deeper/d"], await Bucket.ListAsync("dir/", recursive: true));
    }

    [Fact]
    public async Task Listings_are_sorted_ordinally()
    {
        foreach (var name in new[] { "b", "B", "_", "a", "A", "10", "9" })
            await UploadAsync(name, name);
        Assert.Equal(["10", "9", "A", "B", "_", "a", "b"], await Bucket.ListAsync(""));
    }

    [Fact]
    public async Task Listing_an_empty_bucket_or_a_missing_prefix_finds_nothing()
    {
        Assert.Empty(await Bucket.ListAsync(""));
        Assert.Empty(await Bucket.ListAsync("", recursive: true));
        await UploadAsync("dir/a", "a");
        Assert.Empty(await Bucket.ListAsync("other/"));
        Assert.Empty(await Bucket.ListAsync("other/", recursive: true));
        Assert.Empty(await Bucket.ListAsync("di/"));
    }

    [Fact]
    public async Task A_prefix_without_a_trailing_slash_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Bucket.ListAsync("dir"));
    }

    [Fact]
    public async Task A_deleted_object_is_gone()
    {
        await UploadAsync("dir/a", "a");
        await UploadAsync("keep", "k");
        await Bucket.DeleteAsync("dir/a");

        Assert.False(await Bucket.ExistsAsync("dir/a"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Bucket.GetAsync("dir/a"));
        Assert.Equal(["keep"], await Bucket.ListAsync(""));
        Assert.Equal(["keep"], await Bucket.ListAsync("", recursive: true));
    }

    [Fact]
    public async Task Deleting_a_missing_object_is_not_an_error()
    {
        await Bucket.DeleteAsync("never/existed");
        await UploadAsync("once", "x");
        await Bucket.DeleteAsync("once");
        await Bucket.DeleteAsync("once");
        Assert.Empty(await Bucket.ListAsync("", recursive: true));
    }

    [Fact]
    public async Task Deeply_nested_names_work_at_every_level()
    {
        const string name = "tenant/01J8Z6Q4W0/chunks/000001/part";
        await UploadAsync(name, "deep");
        Assert.Equal("deep", Encoding.UTF8.GetString(await Bucket.GetAsync(name)));
        Assert.Equal("ee", Encoding.UTF8.GetString(await Bucket.GetRangeAsync(name, 1, 2)));
        Assert.Equal(["tenant/"], await Bucket.ListAsync(""));
        Assert.Equal(["tenant/01J8Z6Q4W0/"], await Bucket.ListAsync("tenant/"));
        Assert.Equal(["tenant/01J8Z6Q4W0/chunks/000001/"], await Bucket.ListAsync("tenant/01J8Z6Q4W0/chunks/"));
        Assert.Equal([name], await Bucket.ListAsync("tenant/01J8Z6Q4W0/chunks/000001/"));
        Assert.Equal([name], await Bucket.ListAsync("tenant/", recursive: true));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/leading")]
    [InlineData("trailing/")]
    [InlineData("double//slash")]
    [InlineData("dot/./name")]
    [InlineData("../escape")]
    public async Task Invalid_names_are_refused(string name)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => UploadAsync(name, "x"));
        await Assert.ThrowsAsync<ArgumentException>(() => Bucket.GetAsync(name));
    }
}
