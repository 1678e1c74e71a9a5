using System.Net;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;

namespace Amphora.Bucket;

/// <summary>
/// Retries the operations of another bucket when they fail in a way that waiting may cure: network errors, timeouts,
/// server errors and throttling. Object stores fail like this now and then, and a block upload or compaction should not
/// fail for it. Answers that would come back the same ("not found", invalid arguments, access denied) pass through at
/// once. Delays grow exponentially with jitter, so many clients that failed together do not retry together.
/// </summary>
public sealed partial class RetryingBucket : IBucket
{
    private static readonly ResiliencePropertyKey<string> OperationKey = new("amphora.bucket.operation");

    private readonly IBucket _inner;
    private readonly ResiliencePipeline _pipeline;
    private readonly ILogger _logger;

    /// <param name="inner">The bucket whose operations are retried.</param>
    /// <param name="maxAttempts">Attempts per operation, the first one included.</param>
    /// <param name="baseDelay">The delay before the first retry (200 ms when null); each later one roughly doubles.</param>
    /// <param name="logger">Where each retry is logged as a warning; nowhere when null.</param>
    public RetryingBucket(IBucket inner, int maxAttempts = 5, TimeSpan? baseDelay = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        _inner = inner;
        _logger = logger ?? NullLogger.Instance;
        var pipeline = new ResiliencePipelineBuilder();
        if (maxAttempts > 1)
        {
            pipeline.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = maxAttempts - 1,
                Delay = baseDelay ?? TimeSpan.FromMilliseconds(200),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsTransient(e)),
                OnRetry = args =>
                {
                    LogRetry(_logger, args.Outcome.Exception, args.Context.Properties.GetValue(OperationKey, "operation"),
                        args.AttemptNumber + 1, maxAttempts, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            });
        }
        _pipeline = pipeline.Build();
    }

    /// <summary>Whether <paramref name="e"/> may not happen again on another attempt.</summary>
    private static bool IsTransient(Exception e) => e switch
    {
        // A missing file stays missing; other I/O errors (a reset connection, a full disk being cleaned) may not.
        FileNotFoundException or DirectoryNotFoundException => false,
        IOException or HttpRequestException or TimeoutException => true,
        // HttpClient's own timeout surfaces as a cancellation that nobody asked for.
        OperationCanceledException { InnerException: TimeoutException } => true,
        AmazonServiceException s => (int)s.StatusCode >= 500 || s.StatusCode == HttpStatusCode.TooManyRequests ||
            s.ErrorCode is "SlowDown" or "Throttling" or "ThrottlingException" or "RequestTimeout" or "RequestLimitExceeded",
        _ => false,
    };

    public async Task UploadAsync(string name, Stream content, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        // Each attempt sends the whole stream again, so it must be possible to go back to where it started.
        await using var buffered = content.CanSeek ? null : await BufferAsync(content, ct);
        var body = buffered ?? content;
        long start = body.Position;
        await RunAsync($"upload {name}", async token =>
        {
            body.Position = start;
            await _inner.UploadAsync(name, body, token);
            return true;
        }, ct);
    }

    private static async Task<MemoryStream> BufferAsync(Stream content, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, ct);
        buffer.Position = 0;
        return buffer;
    }

    public Task<byte[]> GetAsync(string name, CancellationToken ct = default) =>
        RunAsync($"get {name}", token => _inner.GetAsync(name, token), ct);

    public Task<byte[]> GetRangeAsync(string name, long offset, int length, CancellationToken ct = default) =>
        RunAsync($"get range {name}", token => _inner.GetRangeAsync(name, offset, length, token), ct);

    public Task<bool> ExistsAsync(string name, CancellationToken ct = default) =>
        RunAsync($"exists {name}", token => _inner.ExistsAsync(name, token), ct);

    public Task<long> SizeAsync(string name, CancellationToken ct = default) =>
        RunAsync($"size {name}", token => _inner.SizeAsync(name, token), ct);

    public Task<IReadOnlyList<string>> ListAsync(string prefix, bool recursive = false, CancellationToken ct = default) =>
        RunAsync($"list {prefix}", token => _inner.ListAsync(prefix, recursive, token), ct);

    public Task DeleteAsync(string name, CancellationToken ct = default) =>
        RunAsync($"delete {name}", async token =>
        {
            await _inner.DeleteAsync(name, token);
            return true;
        }, ct);

    private async Task<T> RunAsync<T>(string operation, Func<CancellationToken, Task<T>> action, CancellationToken ct)
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(OperationKey, operation);
        try
        {
            return await _pipeline.ExecuteAsync(static async (ctx, a) => await a(ctx.CancellationToken), context, action);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "bucket {Operation} failed (attempt {Attempt} of {MaxAttempts}); retrying in {Delay}")]
    private static partial void LogRetry(ILogger logger, Exception? error, string operation, int attempt, int maxAttempts, TimeSpan delay);
}
