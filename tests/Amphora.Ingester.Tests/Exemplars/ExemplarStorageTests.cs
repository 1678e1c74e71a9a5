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
}
