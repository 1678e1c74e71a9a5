using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;

namespace Amphora.Tenancy.Audit;

/// <summary>One audit record. Holds identifiers and reasons only, never a secret or an Authorization header.</summary>
public sealed record AuditEvent
{
    public required DateTimeOffset Time { get; init; }
    public string? KeyId { get; init; }
    public string? Workspace { get; init; }
    public required string Action { get; init; }
    public string? SourceAddress { get; init; }
    /// <summary>"allowed", "denied", "failed", or "suppressed" for the summary of denials that were not written one by one.</summary>
    public required string Outcome { get; init; }
    public int Status { get; init; }
    public string? Reason { get; init; }
    public string? Method { get; init; }
    public string? Path { get; init; }
    /// <summary>In a "suppressed" summary: how many events it stands for.</summary>
    public long? Count { get; init; }
}

/// <summary>How much the audit log may write: denials per second, file size and rotated files kept, queue length.</summary>
public sealed record AuditLogOptions
{
    /// <summary>Denied requests written one by one per second, after a burst of ten times as many (audit.denials-per-second);
    /// the rest are counted and written as one summary line. Control-plane events are never sampled.</summary>
    public double DenialsPerSecond { get; init; } = 10;

    /// <summary>Size at which the file is rotated (audit.max-file-size).</summary>
    public long MaxFileBytes { get; init; } = 100L << 20;

    /// <summary>Rotated files kept beside the current one, <c>audit.log.1</c> newest (audit.max-files).</summary>
    public int MaxFiles { get; init; } = 5;

    /// <summary>Events waiting for the writer; when full, events are dropped and counted, never waited for.</summary>
    public int QueueCapacity { get; init; } = 10_000;

    /// <summary>How often the counts of suppressed and dropped events are written as summary lines.</summary>
    public TimeSpan SummaryInterval { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Appends one JSON line per event to a file and/or standard output: each control-plane call and each denied data-plane
/// request. <see cref="Record"/> never blocks and never does I/O: it hands the event to a bounded queue that one background
/// writer drains (the file is written, flushed and rotated there, outside any lock a request needs). Denials are
/// rate-limited (a token bucket) so unauthenticated traffic cannot grow the file without bound; what is suppressed or dropped
/// because the queue is full is counted (<c>amphora_audit_events_dropped_total</c>, <c>amphora_audit_denials_suppressed_total</c>)
/// and written as a summary line. Disposing writes out what is queued. Thread-safe.
/// </summary>
public sealed partial class AuditLog : IDisposable, IAsyncDisposable
{
    private static readonly Meter Meter = new("Amphora.Tenancy.Audit");
    private static readonly Counter<long> DroppedEvents = Meter.CreateCounter<long>("amphora_audit_events_dropped",
        description: "Audit events dropped because the audit writer's queue was full (audit queue capacity); a summary line in the log counts them too.");
    private static readonly Counter<long> SuppressedDenials = Meter.CreateCounter<long>("amphora_audit_denials_suppressed",
        description: "Denied requests not written one by one because they were over audit.denials-per-second (a summary line counts them).");

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly string? _path;
    private readonly TextWriter? _stdout;
    private readonly AuditLogOptions _options;
    private readonly TimeProvider _time;
    private readonly Channel<object> _queue;
    private readonly Task _writer;
    private readonly Lock _bucketLock = new();
    private double _tokens;
    private long _refilledTicks;
    private long _suppressed, _dropped, _suppressedTotal, _droppedTotal;
    private FileStream? _file;

    public AuditLog(string? filePath, TextWriter? stdout = null, AuditLogOptions? options = null, TimeProvider? time = null)
    {
        _options = options ?? new AuditLogOptions();
        _time = time ?? TimeProvider.System;
        _tokens = Burst;
        _refilledTicks = _time.GetUtcNow().UtcTicks;
        _stdout = stdout;
        if (filePath is not null)
        {
            _path = Path.GetFullPath(filePath);
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            _file = Open(_path);
        }
        _queue = Channel.CreateBounded<object>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of waiting; Record never waits
        });
        _writer = _file is null && _stdout is null ? Task.CompletedTask : Task.Run(WriteLoopAsync);
    }

    public static AuditLog FromOptions(TenancyOptions options) =>
        new(options.AuditLogFile, options.AuditLogToStdout ? Console.Out : null, options.Audit);

    /// <summary>An audit log that records nothing.</summary>
    public static AuditLog None => new(null);

    /// <summary>Denials not written one by one because they were over the rate, since the log was opened.</summary>
    public long Suppressed => Interlocked.Read(ref _suppressedTotal);

    /// <summary>Events dropped because the writer's queue was full, since the log was opened.</summary>
    public long Dropped => Interlocked.Read(ref _droppedTotal);

    private double Burst => Math.Max(1, _options.DenialsPerSecond * 10);

    /// <summary>Queues the event for the writer; returns at once (a denial over the rate is only counted).</summary>
    public void Record(AuditEvent e)
    {
        if (_file is null && _stdout is null) return;
        if (e.Outcome == "denied" && !TakeToken())
        {
            Interlocked.Increment(ref _suppressed);
            Interlocked.Increment(ref _suppressedTotal);
            SuppressedDenials.Add(1);
            return;
        }
        if (!_queue.Writer.TryWrite(e))
        {
            Interlocked.Increment(ref _dropped);
            Interlocked.Increment(ref _droppedTotal);
            DroppedEvents.Add(1);
        }
    }

    private bool TakeToken()
    {
        long now = _time.GetUtcNow().UtcTicks;
        lock (_bucketLock)
        {
            double elapsed = Math.Max(0, now - _refilledTicks) / (double)TimeSpan.TicksPerSecond;
            _refilledTicks = now;
            _tokens = Math.Min(Burst, _tokens + elapsed * _options.DenialsPerSecond);
            if (_tokens < 1) return false;
            _tokens -= 1;
            return true;
        }
    }

    /// <summary>Completes once everything recorded before the call (and the pending summaries) is written and flushed.</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        if (_file is null && _stdout is null) return;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync(done, ct);
        await done.Task.WaitAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
        _file?.Dispose();
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        // Dispose is synchronous by contract (IDisposable); the writer only has the queued lines left to write.
        _writer.Wait(TimeSpan.FromSeconds(10));
        _file?.Dispose();
    }
}
