using Amphora.Distributor;
using Amphora.Ingester;
using Amphora.Ingester.Storage;
using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.PromQL.Rules;
using Amphora.Querier;
using Amphora.Ruler.Alerts;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Ruler.Tests;

/// <summary>A real ingester in a temp dir with the querier and distributor over it, as --target=all wires them; the ruler's
/// evaluator runs on those paths, and alerts sent land in <see cref="Sent"/>.</summary>
public sealed class RulerHarness : IAsyncDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("amphora-ruler-").FullName;
    public IngesterService Ingester { get; }
    public QuerierService Querier { get; }
    public DistributorService Distributor { get; }
    public GroupEvaluator Evaluator { get; }
    public AlertNotifier Notifier { get; }
    public RecordingSink Sent { get; } = new();
    public RulerOptions Options { get; }

    private RulerHarness(RulerOptions options)
    {
        Options = options;
        Ingester = new IngesterService(Dir, new TsdbOptions { CutInterval = TimeSpan.Zero, Fsync = Amphora.Tsdb.Wal.FsyncPolicy.Never },
            NullLogger<IngesterService>.Instance);
        Querier = new QuerierService(Ingester, Ingester, new QuerierOptions());
        Distributor = new DistributorService(new LocalIngesterPush(Ingester), new DistributorOptions(), NullLogger<DistributorService>.Instance);
        Notifier = new AlertNotifier(Sent, NullLogger.Instance);
        Evaluator = new GroupEvaluator(new QuerierRuleQueries(Querier), new DistributorRuleWriter(Distributor), Notifier, options);
    }

    public static async Task<RulerHarness> StartAsync(RulerOptions? options = null)
    {
        var h = new RulerHarness(options ?? new RulerOptions { ForGracePeriod = TimeSpan.Zero });
        await h.Ingester.StartAsync(CancellationToken.None);
        await h.Notifier.StartAsync(CancellationToken.None);
        return h;
    }

    public async Task WriteAsync(string workspace, string series, long t, double v)
    {
        var labels = ParseSeries(series);
        var result = await new DistributorRuleWriter(Distributor).WriteAsync(workspace, [new RuleSample(labels, t, v)], CancellationToken.None);
        Assert.Null(result);
    }

    /// <summary><c>name{a="b",c="d"}</c> as labels (test input only: no escapes).</summary>
    public static Labels ParseSeries(string series)
    {
        int brace = series.IndexOf('{');
        var pairs = new List<Label> { new(Label.MetricName, brace < 0 ? series : series[..brace]) };
        if (brace >= 0)
            foreach (var part in series[(brace + 1)..^1].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var kv = part.Split('=', 2);
                pairs.Add(new Label(kv[0].Trim(), kv[1].Trim().Trim('"')));
            }
        return Labels.FromUnsorted(pairs);
    }

    public async Task<VectorValue> QueryAsync(string workspace, string expr, long t) =>
        (VectorValue)(await Querier.InstantQueryAsync(workspace, expr, t, null, CancellationToken.None)).Value;

    public static RuleGroupState Group(string workspace, string yaml) =>
        new(new GroupKey(workspace, "ns", RuleFileParser.Parse(yaml).Groups[0].Name), RuleFileParser.Parse(yaml).Groups[0], TimeSpan.FromSeconds(1));

    public async ValueTask DisposeAsync()
    {
        await Notifier.StopAsync(CancellationToken.None);
        await Ingester.StopAsync(CancellationToken.None);
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Keeps every batch of alerts the notifier sent.</summary>
public sealed class RecordingSink : IAlertSink
{
    private readonly List<(string Workspace, PostableAlert Alert)> _sent = new();

    public IReadOnlyList<(string Workspace, PostableAlert Alert)> All
    {
        get { lock (_sent) return _sent.ToList(); }
    }

    public Task SendAsync(string workspace, IReadOnlyList<PostableAlert> alerts, CancellationToken ct)
    {
        lock (_sent) foreach (var a in alerts) _sent.Add((workspace, a));
        return Task.CompletedTask;
    }
}
