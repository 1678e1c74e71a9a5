using System.Diagnostics.Metrics;
using System.Text.Json;
using Amphora.Tenancy.Audit;

namespace Amphora.Tenancy.Tests;

/// <summary>
/// Issue 13, finding 10: unauthenticated traffic cannot grow the audit log without bound (denials are rate-limited and
/// summarised, the file is rotated by size), and recording never waits on the writer.
/// </summary>
public sealed class AuditLimitsTests : IDisposable
{
    private readonly TempDir _dir = new();
    private string FilePath => _dir.File("audit.log");

    public void Dispose() => _dir.Dispose();

    private static AuditEvent Event(string outcome, int i) => new()
    {
        Time = DateTimeOffset.UtcNow,
        Action = "aps:RemoteWrite",
        Outcome = outcome,
        Status = outcome == "denied" ? 401 : 200,
        KeyId = $"AKIA{i:D16}",
        Reason = "the access key id, secret or signature is not valid",
    };

    private List<JsonElement> Lines(string path) =>
        File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [Fact]
    public async Task Denials_over_the_rate_are_counted_and_written_as_one_summary_line()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using (var audit = new AuditLog(FilePath, null, new AuditLogOptions { DenialsPerSecond = 1 }, clock))
        {
            for (int i = 0; i < 1000; i++) audit.Record(Event("denied", i));
            audit.Record(Event("allowed", -1)); // control-plane events are never sampled
            await audit.FlushAsync();
            Assert.Equal(990, audit.Suppressed);

            clock.Advance(TimeSpan.FromSeconds(5));
            for (int i = 0; i < 10; i++) audit.Record(Event("denied", i));
            await audit.FlushAsync();
            Assert.Equal(995, audit.Suppressed);
        }
        var lines = Lines(FilePath);
        Assert.Equal(15, lines.Count(l => l.GetProperty("outcome").GetString() == "denied"));
        Assert.Single(lines, l => l.GetProperty("outcome").GetString() == "allowed");
        var summaries = lines.Where(l => l.GetProperty("outcome").GetString() == "suppressed").ToList();
        Assert.Equal([990L, 5L], summaries.Select(s => s.GetProperty("count").GetInt64()));
        Assert.Contains("audit.denials-per-second", summaries[0].GetProperty("reason").GetString());
    }

    [Fact]
    public async Task The_file_is_rotated_by_size_and_only_the_configured_number_of_old_files_is_kept()
    {
        await using (var audit = new AuditLog(FilePath, null, new AuditLogOptions { MaxFileBytes = 4096, MaxFiles = 2 }))
        {
            for (int i = 0; i < 300; i++)
            {
                audit.Record(Event("allowed", i));
                if (i % 50 == 0) await audit.FlushAsync();
            }
            await audit.FlushAsync();
        }
        Assert.True(File.Exists(FilePath + ".1"));
        Assert.True(File.Exists(FilePath + ".2"));
        Assert.False(File.Exists(FilePath + ".3"));
        foreach (string f in new[] { FilePath, FilePath + ".1", FilePath + ".2" })
            Assert.InRange(new FileInfo(f).Length, 1, 4096);
        // The newest events are in the current file; every kept line is whole JSON.
        Assert.Equal("AKIA0000000000000299", Lines(FilePath)[^1].GetProperty("keyId").GetString());
        Assert.All(new[] { FilePath + ".1", FilePath + ".2" }, f => Assert.NotEmpty(Lines(f)));
    }

    /// <summary>Standard output that blocks until released, as a stalled pipe would.</summary>
    private sealed class StalledWriter : StringWriter
    {
        public ManualResetEventSlim Release { get; } = new(false);
        public override void Write(string? value)
        {
            Release.Wait();
            base.Write(value);
        }
    }

    [Fact]
    public async Task Recording_never_waits_for_a_stalled_writer_and_counts_what_it_dropped()
    {
        long droppedMetric = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "amphora_audit_events_dropped") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref droppedMetric, value));
        listener.Start();
        var stdout = new StalledWriter();
        await using (var audit = new AuditLog(null, stdout, new AuditLogOptions { QueueCapacity = 10 }))
        {
            var recording = Task.Run(() =>
            {
                for (int i = 0; i < 1000; i++) audit.Record(Event("allowed", i));
            });
            // Completes although the writer is stuck on its first line: Record only queues.
            await recording.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.InRange(audit.Dropped, 1000 - 11, 1000);
            Assert.True(Interlocked.Read(ref droppedMetric) >= audit.Dropped, "the drops are not on amphora_audit_events_dropped_total");
            stdout.Release.Set();
            await audit.FlushAsync();
        }
        string written = stdout.ToString();
        Assert.Contains("audit events were dropped", written);
    }

    [Fact]
    public void Disposing_writes_out_every_event_still_queued()
    {
        var audit = new AuditLog(FilePath);
        for (int i = 0; i < 500; i++) audit.Record(Event("allowed", i));
        audit.Dispose(); // an orderly shutdown: no flush before
        var lines = Lines(FilePath);
        Assert.Equal(500, lines.Count);
        Assert.Equal($"AKIA{499:D16}", lines[^1].GetProperty("keyId").GetString());
    }
}
