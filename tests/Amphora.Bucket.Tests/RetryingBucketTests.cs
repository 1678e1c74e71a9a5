using System.Net;
using System.Text;
using Amazon.S3;
using Microsoft.Extensions.Logging;

namespace Amphora.Bucket.Tests;

public sealed class RetryingBucketTests
{
    private static readonly TimeSpan ShortDelay = TimeSpan.FromMilliseconds(1);

    [Fact]
    public async Task Transient_failures_are_retried_until_an_attempt_succeeds()
    {
        var inner = new FlakyBucket(failures: 2, new IOException("connection reset"));
        inner.Objects["a"] = "content"u8.ToArray();
        var logger = new CountingLogger();
        var bucket = new RetryingBucket(inner, baseDelay: ShortDelay, logger: logger);

        Assert.Equal("content"u8.ToArray(), await bucket.GetAsync("a"));
        Assert.Equal(3, inner.Attempts);
        Assert.Equal(2, logger.Warnings);
    }

    [Fact]
    public async Task A_missing_object_is_not_retried()
    {
        var inner = new FlakyBucket(failures: 0, new IOException());
        var bucket = new RetryingBucket(inner, baseDelay: ShortDelay);

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => bucket.GetAsync("missing"));
        Assert.Equal(1, inner.Attempts);
    }

    [Fact]
    public async Task Invalid_arguments_are_not_retried()
    {
        var inner = new FlakyBucket(failures: 5, new ArgumentException("bad name"));
        var bucket = new RetryingBucket(inner, baseDelay: ShortDelay);

        await Assert.ThrowsAsync<ArgumentException>(() => bucket.GetAsync("a"));
        Assert.Equal(1, inner.Attempts);
    }

    private static readonly Dictionary<string, Func<Exception>> Failures = new()
    {
        ["io"] = () => new IOException("broken pipe"),
        ["http"] = () => new HttpRequestException("connection refused"),
        ["timeout"] = () => new TimeoutException(),
        ["http client timeout"] = () => new TaskCanceledException("timed out", new TimeoutException()),
        ["s3 500"] = () => new AmazonS3Exception("internal error") { StatusCode = HttpStatusCode.InternalServerError },
        ["s3 slow down"] = () => new AmazonS3Exception("slow down") { StatusCode = HttpStatusCode.ServiceUnavailable, ErrorCode = "SlowDown" },
        ["s3 429"] = () => new AmazonS3Exception("too many") { StatusCode = HttpStatusCode.TooManyRequests },
        ["not found"] = () => new ObjectNotFoundException("a"),
        ["argument"] = () => new ArgumentException("bad name"),
        ["missing file"] = () => new FileNotFoundException("gone"),
        ["s3 403"] = () => new AmazonS3Exception("denied") { StatusCode = HttpStatusCode.Forbidden, ErrorCode = "AccessDenied" },
        ["s3 missing bucket"] = () => new AmazonS3Exception("no bucket") { StatusCode = HttpStatusCode.NotFound, ErrorCode = "NoSuchBucket" },
    };

    [Theory]
    [InlineData("io", true)]
    [InlineData("http", true)]
    [InlineData("timeout", true)]
    [InlineData("http client timeout", true)]
    [InlineData("s3 500", true)]
    [InlineData("s3 slow down", true)]
    [InlineData("s3 429", true)]
    [InlineData("not found", false)]
    [InlineData("argument", false)]
    [InlineData("missing file", false)]
    [InlineData("s3 403", false)]
    [InlineData("s3 missing bucket", false)]
    public async Task Only_failures_that_waiting_may_cure_are_retried(string failure, bool retried)
    {
        var inner = new FlakyBucket(failures: 1, Failures[failure]());
        inner.Objects["a"] = [7];
        var bucket = new RetryingBucket(inner, baseDelay: ShortDelay);

        if (retried) Assert.Equal([7], await bucket.GetAsync("a"));
        else await Assert.ThrowsAnyAsync<Exception>(() => bucket.GetAsync("a"));
        Assert.Equal(retried ? 2 : 1, inner.Attempts);
    }

    [Fact]
    public async Task The_last_failure_surfaces_when_every_attempt_fails()
    {
        var inner = new FlakyBucket(failures: 10, new HttpRequestException("unreachable"));
        var bucket = new RetryingBucket(inner, maxAttempts: 4, baseDelay: ShortDelay);

        await Assert.ThrowsAsync<HttpRequestException>(() => bucket.SizeAsync("a"));
        Assert.Equal(4, inner.Attempts);
    }

    [Fact]
    public async Task A_retried_upload_sends_the_whole_stream_again_even_when_it_cannot_seek()
    {
        var inner = new FlakyBucket(failures: 2, new TimeoutException());
        var bucket = new RetryingBucket(inner, baseDelay: ShortDelay);
        byte[] content = Encoding.UTF8.GetBytes(new string('x', 100_000));

        await bucket.UploadAsync("a", new ForwardOnlyStream(content));
        Assert.Equal(content, inner.Objects["a"]);
        Assert.Equal(3, inner.Attempts);
    }

    [Fact]
    public async Task A_retried_upload_of_a_seekable_stream_starts_where_the_stream_was()
    {
        var inner = new FlakyBucket(failures: 1, new IOException());
        var bucket = new RetryingBucket(inner, baseDelay: ShortDelay);
        var stream = new MemoryStream("skip:keep"u8.ToArray()) { Position = 5 };

        await bucket.UploadAsync("a", stream);
        Assert.Equal("keep"u8.ToArray(), inner.Objects["a"]);
        Assert.Equal(2, inner.Attempts);
    }

    /// <summary>An in-memory bucket whose first <c>failures</c> operations throw <c>error</c>, after reading their input.</summary>
    private sealed class FlakyBucket(int failures, Exception error) : IBucket
    {
        public Dictionary<string, byte[]> Objects { get; } = [];
        public int Attempts { get; private set; }

        private void Attempt()
        {
            if (++Attempts <= failures) throw error;
        }

        private byte[] Get(string name) => Objects.TryGetValue(name, out var bytes) ? bytes : throw new ObjectNotFoundException(name);

        public async Task UploadAsync(string name, Stream content, CancellationToken ct = default)
        {
            var copy = new MemoryStream();
            await content.CopyToAsync(copy, ct);
            Attempt();
            Objects[name] = copy.ToArray();
        }

        public Task<byte[]> GetAsync(string name, CancellationToken ct = default)
        {
            Attempt();
            return Task.FromResult(Get(name));
        }

        public Task<byte[]> GetRangeAsync(string name, long offset, int length, CancellationToken ct = default)
        {
            Attempt();
            return Task.FromResult(Get(name).Skip((int)offset).Take(length).ToArray());
        }

        public Task<bool> ExistsAsync(string name, CancellationToken ct = default)
        {
            Attempt();
            return Task.FromResult(Objects.ContainsKey(name));
        }

        public Task<long> SizeAsync(string name, CancellationToken ct = default)
        {
            Attempt();
            return Task.FromResult((long)Get(name).Length);
        }

        public Task<IReadOnlyList<string>> ListAsync(string prefix, bool recursive = false, CancellationToken ct = default)
        {
            Attempt();
            return Task.FromResult<IReadOnlyList<string>>(Objects.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList());
        }

        public Task DeleteAsync(string name, CancellationToken ct = default)
        {
            Attempt();
            Objects.Remove(name);
            return Task.CompletedTask;
        }
    }

    private sealed class CountingLogger : ILogger
    {
        public int Warnings { get; private set; }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning) Warnings++;
        }
    }
}
