using Amphora.Server.Config;
using Amphora.Services;

namespace Amphora.Server;

/// <summary>
/// The components one process runs for its <c>--target</c>, in start order (storage first, the HTTP-facing parts last),
/// and the HTTP routes they serve. <c>--target=all</c> wires them in process: the distributor pushes into the local
/// ingester's storage and the querier reads it directly.
/// </summary>
public sealed partial class Modules
{
    private readonly List<IService> _services = new();
    private readonly List<Action<WebApplication>> _routes = new();
    internal const string ShuttingDown = "shutting down";
    private volatile string? _notReady = "starting";

    public string Target { get; }
    public IReadOnlyList<IService> Services => _services;
    public bool IsReady => _notReady is null && _services.All(s => s.State == ServiceState.Running);
    public string NotReadyReason => _notReady ?? string.Join(", ", _services.Where(s => s.State != ServiceState.Running).Select(s => $"{s.Name} is {s.State}"));

    private Modules(string target) => Target = target;

    public void MarkReady() => _notReady = null;
    public void MarkNotReady(string reason) => _notReady = reason;

    public void MapRoutes(WebApplication app)
    {
        foreach (var map in _routes) map(app);
    }

    public static Modules Create(AmphoraConfig config, IServiceProvider services)
    {
        var modules = new Modules(config.Target);
        switch (config.Target)
        {
            case "all":
                modules.AddAllInOne(config, services);
                break;
            case "ingester":
                modules.AddIngester(config, services);
                break;
            case "distributor":
                modules.AddDistributor(config, services);
                break;
            case "querier":
                modules.AddQuerier(config, services);
                break;
            case "query-frontend":
                modules.AddQueryFrontend(config, services);
                break;
            case "compactor":
                modules.AddCompactor(config, services, modules.AddTenancyForCompactor(config, services));
                break;
            case "ruler":
                modules.AddRulerProcess(config, services);
                break;
            case "operator":
                modules.AddOperator(config, services);
                break;
            case "alertmanager":
                modules.AddAlertmanagerTarget(config, services);
                break;
            default:
                throw new ConfigException($"--target={config.Target} is unknown; use all, ingester, distributor, querier, query-frontend, compactor, ruler, alertmanager or operator.");
        }
        return modules;
    }
}
