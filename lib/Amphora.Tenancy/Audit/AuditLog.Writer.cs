using System.Text;
using System.Text.Json;

namespace Amphora.Tenancy.Audit;

/// <summary>The background writer: drains the queue into the file and standard output, rotates the file, writes summaries.</summary>
public sealed partial class AuditLog
{
    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        Task<bool>? waiting = null;
        Task? tick = null;
        while (true)
        {
            waiting ??= reader.WaitToReadAsync().AsTask();
            tick ??= Task.Delay(_options.SummaryInterval, _time);
            var woke = await Task.WhenAny(waiting, tick);
            bool summarize = woke == tick;
            if (summarize) tick = null;
            else
            {
                bool more = await waiting;
                waiting = null;
                if (!more) break;
            }
            var flushed = new List<TaskCompletionSource>();
            while (reader.TryRead(out var item))
            {
                if (item is AuditEvent e) WriteLine(JsonSerializer.SerializeToUtf8Bytes(e, Json));
                else if (item is TaskCompletionSource done) flushed.Add(done);
            }
            // Summaries go out on the interval and on a flush, not after every drain, so one burst is one summary line.
            if (summarize || flushed.Count > 0) WriteSummaries();
            Flush();
            foreach (var done in flushed) done.TrySetResult();
        }
        WriteSummaries();
        Flush();
    }

    private void WriteSummaries()
    {
        long suppressed = Interlocked.Exchange(ref _suppressed, 0);
        if (suppressed > 0)
            WriteLine(JsonSerializer.SerializeToUtf8Bytes(Summary(suppressed,
                $"{suppressed} denied requests were not logged one by one: over the audit rate of {_options.DenialsPerSecond} " +
                "per second (set by audit.denials-per-second)"), Json));
        long dropped = Interlocked.Exchange(ref _dropped, 0);
        if (dropped > 0)
            WriteLine(JsonSerializer.SerializeToUtf8Bytes(Summary(dropped,
                $"{dropped} audit events were dropped: the writer's queue of {_options.QueueCapacity} was full"), Json));
    }

    private AuditEvent Summary(long count, string reason) => new()
    {
        Time = _time.GetUtcNow(),
        Action = "audit",
        Outcome = "suppressed",
        Count = count,
        Reason = reason,
    };

    private void WriteLine(byte[] line)
    {
        try
        {
            if (_file is not null)
            {
                if (_file.Length > 0 && _file.Length + line.Length + 1 > _options.MaxFileBytes) Rotate();
                _file.Write(line);
                _file.WriteByte((byte)'\n');
            }
            _stdout?.Write(Encoding.UTF8.GetString(line) + "\n");
        }
        catch (IOException)
        {
            Interlocked.Increment(ref _droppedTotal);
            DroppedEvents.Add(1);
        }
    }

    private void Flush()
    {
        try
        {
            _file?.Flush();
            _stdout?.Flush();
        }
        catch (IOException)
        {
            // The next write tries again; a full disk must not stop the writer.
        }
    }

    /// <summary>audit.log → audit.log.1 → … → audit.log.N; the oldest beyond <see cref="AuditLogOptions.MaxFiles"/> is removed.</summary>
    private void Rotate()
    {
        _file!.Dispose();
        string path = _path!;
        try
        {
            File.Delete($"{path}.{_options.MaxFiles}");
            for (int i = _options.MaxFiles - 1; i >= 1; i--)
                if (File.Exists($"{path}.{i}")) File.Move($"{path}.{i}", $"{path}.{i + 1}", overwrite: true);
            if (_options.MaxFiles > 0) File.Move(path, $"{path}.1", overwrite: true);
            else File.Delete(path);
        }
        finally
        {
            _file = Open(path);
        }
    }

    private static FileStream Open(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read | FileShare.Delete };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        return new FileStream(path, options);
    }
}
