using Amphora.Ingester.Storage;
using Amphora.Model;
using Amphora.Tsdb.Wal;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Ingester.Tests.Exemplars;

/// <summary>Issue 21: exemplars appended with their series' samples are kept at the commit, per workspace, and go with the workspace.</summary>
public sealed class ExemplarStorageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("amphora-exemplars-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static readonly Labels Bucket = Labels.FromStrings("__name__", "latency_bucket", "job", "api", "le", "1");
    private static readonly IReadOnlyList<IReadOnlyList<LabelMatcher>> Latency = [[LabelMatcher.Create(MatchType.Equal, "__name__", "latency_bucket")]];

    [Fact]
    public async Task Exemplars_are_kept_at_commit_only_for_series_written_and_only_in_their_workspace()
    {
        using var storage = await TsdbStorage.OpenAsync(_dir, new TsdbOptions { Fsync = FsyncPolicy.Never, CutInterval = TimeSpan.Zero }, NullLogger.Instance);
        long t = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var appender = storage.Appender("ws-a");
        ulong r = 0;
        Assert.Equal(Amphora.Storage.AppendStatus.Ok, appender.Append(ref r, Bucket, t, 3));
        appender.AppendExemplar(Bucket, new Exemplar(Labels.FromStrings("trace_id", "abc"), 0.7, t));
        appender.AppendExemplar(Labels.FromStrings("__name__", "no_samples_here"), new Exemplar(Labels.FromStrings("trace_id", "zzz"), 1, t));
        Assert.Empty(await storage.SelectExemplarsAsync("ws-a", 0, long.MaxValue, Latency)); // nothing before the commit
        await appender.CommitAsync();

        var found = Assert.Single(await storage.SelectExemplarsAsync("ws-a", t - 1, t + 1, Latency));
        Assert.Equal(Bucket, found.SeriesLabels);
        Assert.Equal(new Exemplar(Labels.FromStrings("trace_id", "abc"), 0.7, t), Assert.Single(found.Exemplars));
        Assert.Empty(await storage.SelectExemplarsAsync("ws-a", 0, long.MaxValue, [[LabelMatcher.Create(MatchType.Equal, "__name__", "no_samples_here")]]));
        Assert.Empty(await storage.SelectExemplarsAsync("ws-b", 0, long.MaxValue, Latency));

        var rolledBack = storage.Appender("ws-a");
        Assert.Equal(Amphora.Storage.AppendStatus.Ok, rolledBack.Append(ref r, Bucket, t + 1000, 4));
        rolledBack.AppendExemplar(Bucket, new Exemplar(Labels.FromStrings("trace_id", "def"), 0.8, t + 1000));
        rolledBack.Rollback();
        Assert.Single(Assert.Single(await storage.SelectExemplarsAsync("ws-a", 0, long.MaxValue, Latency)).Exemplars);

        await storage.DropAsync("ws-a");
        Assert.Empty(await storage.SelectExemplarsAsync("ws-a", 0, long.MaxValue, Latency));
    }

    /// <summary>
    /// Prometheus's remote write sends a series' exemplars in a TimeSeries of their own, without samples, in the same request
    /// as the samples or a later one (found with Prometheus 2.42 as the sender: no exemplar was stored).
    /// </summary>
    [Fact]
    public async Task Exemplars_without_samples_are_kept_for_a_series_the_head_has_and_dropped_for_an_unknown_one()
    {
        long t = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 10_000;
        var storage = await OpenAsync();
        var first = storage.Appender("ws-a");
        ulong r = 0;
        // The exemplar comes first in the request, the series' samples (which create it) after.
        first.AppendExemplar(Series(0), new Exemplar(Labels.FromStrings("trace_id", "same-request"), 0.5, t));
        Assert.Equal(Amphora.Storage.AppendStatus.Ok, first.Append(ref r, Series(0), t, 1));
        await first.CommitAsync();

        // A later request of exemplars only: one for the series the head has, one for a series that does not exist.
        var later = storage.Appender("ws-a");
        later.AppendExemplar(Series(0), new Exemplar(Labels.FromStrings("trace_id", "later-request"), 0.6, t + 1000));
        later.AppendExemplar(Series(7), new Exemplar(Labels.FromStrings("trace_id", "unknown-series"), 9, t + 1000));
        await later.CommitAsync();

        var expected = new List<(string, long, string, double)> { ("0", t, "same-request", 0.5), ("0", t + 1000, "later-request", 0.6) };
        Assert.Equal(expected, await ReadAsync(storage, "ws-a"));
        Assert.Equal(1, storage.HeadFor("ws-a").SeriesCount); // the exemplar created no series
        Assert.Null(storage.HeadFor("ws-a").Find(Series(7)));
        var unclean = storage; // never disposed: both come back from the WAL

        using var reopened = await OpenAsync();
        Assert.Equal(expected, await ReadAsync(reopened, "ws-a"));
        Assert.Equal(1, reopened.HeadFor("ws-a").SeriesCount);
        GC.KeepAlive(unclean);
    }

    private Task<TsdbStorage> OpenAsync(int maxExemplars = 100_000) => TsdbStorage.OpenAsync(_dir,
        new TsdbOptions { Fsync = FsyncPolicy.Always, CutInterval = TimeSpan.Zero, MaxExemplarsPerWorkspace = maxExemplars }, NullLogger.Instance);

    private static Labels Series(int i) => Labels.FromStrings("__name__", "latency_bucket", "job", "api", "le", i.ToString());

    /// <summary>One commit per round: a sample and an exemplar for each of <paramref name="series"/> series, at t0 + round s.</summary>
    private static async Task WriteAsync(TsdbStorage storage, string workspace, long t0, int from, int to, int series)
    {
        for (int round = from; round < to; round++)
        {
            var appender = storage.Appender(workspace);
            long t = t0 + round * 1000L;
            for (int i = 0; i < series; i++)
            {
                ulong r = 0;
                Assert.Equal(Amphora.Storage.AppendStatus.Ok, appender.Append(ref r, Series(i), t, round));
                appender.AppendExemplar(Series(i), new Exemplar(Labels.FromStrings("trace_id", $"{round:x4}{i:x4}"), round + i / 10.0, t));
            }
            await appender.CommitAsync();
        }
    }

    private static async Task<List<(string Le, long T, string Trace, double Value)>> ReadAsync(TsdbStorage storage, string workspace) =>
        (await storage.SelectExemplarsAsync(workspace, long.MinValue, long.MaxValue, Latency))
            .SelectMany(s => s.Exemplars.Select(e => (s.SeriesLabels.Get("le"), e.T, e.Labels.Get("trace_id"), e.Value)))
            .OrderBy(x => x.Item1, StringComparer.Ordinal).ThenBy(x => x.T).ToList();

    [Fact]
    public async Task Exemplars_survive_an_unclean_restart_through_the_wal_and_a_checkpoint_and_a_deleted_workspace_stays_deleted()
    {
        long t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000;
        var storage = await OpenAsync();
        await WriteAsync(storage, "ws-a", t0, 0, 10, series: 5);
        await WriteAsync(storage, "ws-gone", t0, 0, 3, series: 2);
        storage.Checkpoint();
        await WriteAsync(storage, "ws-a", t0, 10, 14, series: 5);
        // A resent exemplar (a sender's retry) and an older one are logged no more than they are kept.
        var retry = storage.Appender("ws-a");
        ulong r = 0;
        Assert.Equal(Amphora.Storage.AppendStatus.Ok, retry.Append(ref r, Series(0), t0 + 14_000, 99));
        retry.AppendExemplar(Series(0), new Exemplar(Labels.FromStrings("trace_id", "000d0000"), 13, t0 + 13_000));
        retry.AppendExemplar(Series(0), new Exemplar(Labels.FromStrings("trace_id", "older"), 1, t0 + 1_000));
        await retry.CommitAsync();
        await storage.DropAsync("ws-gone");
        var expected = await ReadAsync(storage, "ws-a");
        Assert.Equal(14 * 5, expected.Count);
        int logged = 0;
        WalReader.Replay(Path.Combine(_dir, "wal"), (type, payload) =>
        {
            if (type == WalRecordType.Exemplars && WalRecords.DecodeExemplars(payload) is ("ws-a", var entries)) logged += entries.Length;
        });
        Assert.Equal(14 * 5, logged);
        var unclean = storage; // never disposed, as after SIGKILL: only what the WAL holds comes back

        using var reopened = await OpenAsync();
        Assert.Equal(expected, await ReadAsync(reopened, "ws-a"));
        Assert.Empty(await ReadAsync(reopened, "ws-gone"));
        // The replayed store goes on refusing the resend, as the one before the restart did.
        var again = reopened.Appender("ws-a");
        Assert.Equal(Amphora.Storage.AppendStatus.Ok, again.Append(ref r, Series(1), t0 + 14_000, 99));
        again.AppendExemplar(Series(1), new Exemplar(Labels.FromStrings("trace_id", "000d0001"), 13.1, t0 + 13_000));
        await again.CommitAsync();
        Assert.Equal(expected, await ReadAsync(reopened, "ws-a"));
        GC.KeepAlive(unclean);
    }

    [Fact]
    public async Task A_restart_with_a_smaller_exemplar_limit_keeps_the_newest_and_with_exemplars_off_keeps_none()
    {
        long t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000;
        var storage = await OpenAsync();
        await WriteAsync(storage, "ws", t0, 0, 6, series: 2);
        var all = await ReadAsync(storage, "ws");
        storage.Dispose();

        using (var smaller = await OpenAsync(maxExemplars: 4))
            Assert.Equal(all.Where(x => x.T >= t0 + 4_000), await ReadAsync(smaller, "ws"));
        using (var off = await OpenAsync(maxExemplars: 0))
            Assert.Empty(await ReadAsync(off, "ws"));
    }
}
