using System.Net.Http.Headers;
using Amphora.Distributor;
using Amphora.Querier;
using Amphora.Querier.Cluster;
using Amphora.Ruler;
using Amphora.Ruler.Alerts;
using Amphora.Ruler.Api;
using Amphora.Server.Config;
using Amphora.Storage;

namespace Amphora.Server;

/// <summary>
/// The ruler: its own process (--target=ruler: queries through its own querier over the ring's ingesters and the bucket's
/// blocks, writes through its own distributor's ring push) or part of --target=all (the local querier and distributor).
/// Either way rule queries and recorded samples take the same paths, limits and accounting as the API's.
/// </summary>
public sealed partial class Modules
{
    private void AddRulerProcess(AmphoraConfig config, IServiceProvider services)
    {
        var tenancy = AddTenancy(config, services, workspace => RequestWorkspaceDeletionAsync(config, services, workspace), completesDeletion: false);
        var ring = AddRing(config, services);
        var querier = NewRingQuerier(config, services, tenancy, ring);
        var distributor = NewDistributor(config, services, tenancy, new RingPush(ring, IngesterCallTimeout, config.MaxBackgroundPushes));
        _services.Add(querier);
        _services.Add(distributor);
        var ruler = AddRuler(config, services, tenancy, querier, distributor);
        var peers = ruler.Peers.Count == 0 ? null
            : new RulerPeers(new HttpClient(), ruler.Peers.Select(p => new Uri($"{(config.TlsCertFile is null ? "http" : "https")}://{p}/")).ToList(),
                AdminBasicAuth(config));
        _routes.Add(app =>
        {
            tenancy.MapRoutes(app);
            app.MapRulerApi(ruler, peers);
        });
    }

    /// <summary>The ruler over this process's querier and distributor; the caller maps <see cref="RulerApi"/> to it.</summary>
    /// <param name="alertmanager">The workspaces' Alertmanagers in this process (<c>--target=all</c>), which alerts go to
    /// directly when <c>--ruler.alertmanager-url</c> is not set.</param>
    private RulerService AddRuler(AmphoraConfig config, IServiceProvider services, TenancyModule tenancy, QuerierService querier,
        DistributorService distributor, Amphora.Alertmanager.AlertmanagerSupervisor? alertmanager = null)
    {
        ListenAddress.TryParse(config.Listen, out var http, out _);
        string scheme = config.TlsCertFile is null ? "http" : "https";
        var options = new RulerOptions
        {
            EvaluationInterval = config.RulerEvaluationInterval,
            SyncInterval = config.RulerSyncInterval,
            ForGracePeriod = config.RulerForGracePeriod,
            ForOutageTolerance = config.RulerForOutageTolerance,
            ResendDelay = config.RulerResendDelay,
            ExternalUrl = new Uri(config.RulerExternalUrl ?? $"{scheme}://{http}/"),
            Name = config.RulerInstance,
            Members = config.RulerMembers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        };
        IAlertSink sink = config.RulerAlertmanagerUrl is { } url
            ? new HttpAlertSink(new HttpClient(), HttpAlertSink.UnderWorkspaces(new Uri(url)), AdminBasicAuth(config))
            : alertmanager is not null
                // The workspace's own process on loopback serves the same path as Amphora's route does.
                ? new HttpAlertSink(new HttpClient(), ws => alertmanager.EndpointFor(ws) is { } endpoint ? HttpAlertSink.UnderWorkspaces(endpoint)(ws) : null)
                : new NoAlertmanager();
        var notifier = new AlertNotifier(sink, services.GetRequiredService<ILogger<AlertNotifier>>());
        var store = tenancy.Tenancy.Store;
        var ruler = new RulerService(() => ActiveWorkspaceRules(store.Current), new QuerierRuleQueries(querier), new DistributorRuleWriter(distributor),
            notifier, options, services.GetRequiredService<ILogger<RulerService>>());
        _services.Add(notifier);
        _services.Add(ruler);
        return ruler;
    }

    /// <summary>The rule groups namespaces of every ACTIVE workspace in the synced tenancy state (the ruler skips the others).</summary>
    private static IReadOnlyList<WorkspaceRules> ActiveWorkspaceRules(Amphora.Tenancy.State.TenancySnapshot snapshot)
    {
        var result = new List<WorkspaceRules>();
        foreach (var workspace in snapshot.WorkspacesWithRuleGroupsNamespaces)
        {
            if (!snapshot.Workspaces.TryGetValue(workspace, out var record) || !record.IsActive) continue;
            var namespaces = snapshot.RuleGroupsNamespaces(workspace)
                .Select(n => new RuleNamespace(n.Name, n.Data, n.ModifiedAt)).ToList();
            result.Add(new WorkspaceRules(workspace, namespaces));
        }
        return result;
    }

    /// <summary>Basic auth with the admin key of --auth.admin-key-file, read at each send (none without the file).</summary>
    private static Func<AuthenticationHeaderValue?> AdminBasicAuth(AmphoraConfig config) => () =>
    {
        if (config.AdminKeyFile is not { } path || !File.Exists(path)) return null;
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(path));
        return HttpAlertSink.BasicAuth(doc.RootElement.GetProperty("accessKeyId").GetString() ?? "",
            doc.RootElement.GetProperty("secretAccessKey").GetString() ?? "");
    };

    /// <summary>Without --ruler.alertmanager-url alerts are evaluated and listed but go nowhere; a send says so.</summary>
    private sealed class NoAlertmanager : IAlertSink
    {
        public Task SendAsync(string workspace, IReadOnlyList<PostableAlert> alerts, CancellationToken ct) =>
            Task.FromException(new InvalidOperationException("no Alertmanager: set --ruler.alertmanager-url"));
    }
}
