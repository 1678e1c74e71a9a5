using System.Diagnostics.Metrics;
using Amphora.PromQL.Rules;
using Amphora.Ruler.Alerts;
using Amphora.Ruler.Api;
using Amphora.Services;
using Microsoft.Extensions.Logging;

namespace Amphora.Ruler;

/// <summary>
/// The ruler: every sync interval it reads the ACTIVE workspaces' rule groups namespaces, starts a loop for each group this
/// replica owns (a stable hash of workspace, namespace and group over <see cref="RulerOptions.Members"/>), replaces a loop
/// whose definition changed (keeping its alerts), and stops the loops of groups that are gone (writing stale markers for
/// their series) or that another replica now owns. A namespace that does not parse is logged and skipped (the control
/// plane refuses such files; one stored by an older version must not stop the others).
/// </summary>
public sealed partial class RulerService : ServiceBase, IRuleGroupsView
{
    private readonly Func<IReadOnlyList<WorkspaceRules>> _source;
    private readonly GroupEvaluator _evaluator;
    private readonly RulerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Dictionary<GroupKey, GroupRunner> _runners = new();
    private readonly Dictionary<(string, string), (DateTimeOffset ModifiedAt, int Length, RuleFile? File)> _parsed = new();
    private volatile IReadOnlyDictionary<string, IReadOnlyList<RuleGroupState>> _published = new Dictionary<string, IReadOnlyList<RuleGroupState>>();
    private static readonly Meter Meter = new("Amphora.Ruler");

    public RulerService(Func<IReadOnlyList<WorkspaceRules>> source, IRuleQueries queries, IRuleSampleWriter writer, AlertNotifier notifier,
        RulerOptions options, ILogger<RulerService> logger, TimeProvider? time = null)
    {
        options.Validate();
        _source = source;
        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _evaluator = new GroupEvaluator(queries, writer, notifier, options);
        Meter.CreateObservableGauge("amphora_ruler_groups", () => _published.Values.Sum(g => g.Count),
            description: "Rule groups this ruler replica evaluates.");
    }

    public override string Name => "ruler";

    public GroupEvaluator Evaluator => _evaluator;

    /// <summary>The other replicas (their names, which are host:port addresses in a cluster).</summary>
    public IReadOnlyList<string> Peers => _options.Members.Where(m => m != _options.Name).ToList();

    /// <summary>Whether this replica evaluates the group: the group's hash over the sorted members, as the compactor spreads workspaces.</summary>
    public bool Owns(GroupKey key)
    {
        if (_options.Members.Count == 0) return true;
        var members = _options.Members.Order(StringComparer.Ordinal).ToList();
        return members[(int)(key.Hash % (ulong)members.Count)] == _options.Name;
    }

    public Task<IReadOnlyList<RuleGroupState>> GroupsAsync(string workspace, CancellationToken ct) =>
        Task.FromResult(_published.TryGetValue(workspace, out var groups) ? groups : (IReadOnlyList<RuleGroupState>)[]);

    protected override Task StartingAsync(CancellationToken ct)
    {
        Sync();
        return Task.CompletedTask;
    }

    protected override async Task RunningAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_options.SyncInterval, _time);
        while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            Sync();
    }

    protected override async Task StoppingAsync(CancellationToken ct)
    {
        List<GroupRunner> runners;
        lock (_runners)
        {
            runners = _runners.Values.ToList();
            _runners.Clear();
        }
        foreach (var r in runners) await r.StopAsync(markStale: false).ConfigureAwait(false);
    }

    /// <summary>Brings the running groups in line with the tenancy state. Only the sync loop (and start) calls it.</summary>
    public void Sync()
    {
        var wanted = new Dictionary<GroupKey, RuleGroup>();
        var all = new HashSet<GroupKey>();
        var seenNamespaces = new HashSet<(string, string)>();
        foreach (var ws in _source())
            foreach (var ns in ws.Namespaces)
            {
                seenNamespaces.Add((ws.Workspace, ns.Name));
                var file = Parse(ws.Workspace, ns);
                if (file is null) continue;
                foreach (var g in file.Groups)
                {
                    var key = new GroupKey(ws.Workspace, ns.Name, g.Name);
                    all.Add(key);
                    if (Owns(key)) wanted[key] = g;
                }
            }
        foreach (var k in _parsed.Keys.Where(k => !seenNamespaces.Contains(k)).ToList()) _parsed.Remove(k);

        lock (_runners)
        {
            foreach (var (key, runner) in _runners.ToList())
            {
                if (wanted.TryGetValue(key, out var def) && ReferenceEquals(def, runner.State.Definition)) continue;
                _runners.Remove(key);
                bool removed = !wanted.ContainsKey(key);
                // A changed group keeps its state in the new loop; a removed one marks its series stale. A group that moved to
                // another replica stops quietly: the new owner restores its alerts from ALERTS_FOR_STATE.
                bool gone = removed && !all.Contains(key);
                _ = runner.StopAsync(markStale: gone);
                if (!removed)
                {
                    var state = new RuleGroupState(key, def!, _options.EvaluationInterval);
                    state.CopyStateFrom(runner.State);
                    _runners[key] = Start(state, runner.StopTask);
                }
            }
            foreach (var (key, def) in wanted)
                if (!_runners.ContainsKey(key)) _runners[key] = Start(new RuleGroupState(key, def, _options.EvaluationInterval), Task.CompletedTask);
            var published = new Dictionary<string, List<RuleGroupState>>();
            foreach (var r in _runners.Values)
            {
                if (!published.TryGetValue(r.State.Key.Workspace, out var list)) published[r.State.Key.Workspace] = list = new();
                list.Add(r.State);
            }
            _published = published.ToDictionary(p => p.Key, p => (IReadOnlyList<RuleGroupState>)p.Value);
        }
    }

    private GroupRunner Start(RuleGroupState state, Task previous) => new(state, _evaluator, _time, _logger, previous);

    private RuleFile? Parse(string workspace, RuleNamespace ns)
    {
        var key = (workspace, ns.Name);
        if (_parsed.TryGetValue(key, out var cached) && cached.ModifiedAt == ns.ModifiedAt && cached.Length == ns.Data.Length) return cached.File;
        RuleFile? file = null;
        try
        {
            file = RuleFileParser.Parse(System.Text.Encoding.UTF8.GetString(ns.Data));
        }
        catch (RuleFileException e)
        {
            LogBadNamespace(_logger, workspace, ns.Name, e.Message);
        }
        _parsed[key] = (ns.ModifiedAt, ns.Data.Length, file);
        return file;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "workspace {Workspace}: rule groups namespace {Namespace} is skipped: {Reason}")]
    private static partial void LogBadNamespace(ILogger logger, string workspace, string @namespace, string reason);
}
