using Amphora.Alertmanager;
using Amphora.Server.Config;

namespace Amphora.Server;

/// <summary>The workspaces' Alertmanagers: their own process (--target=alertmanager) or part of --target=all when the
/// Alertmanager binary is there.</summary>
public sealed partial class Modules
{
    /// <summary>The supervisor of the workspaces' Alertmanager processes in this process, or null (for the ruler of --target=all:
    /// <see cref="AlertmanagerSupervisor.EndpointFor"/>).</summary>
    public AlertmanagerSupervisor? Alertmanager { get; private set; }

    /// <summary>--target=alertmanager: the supervisor, the control plane and the workspaces' Alertmanager API.</summary>
    private void AddAlertmanagerTarget(AmphoraConfig config, IServiceProvider services)
    {
        var tenancy = AddTenancy(config, services, workspace => RequestWorkspaceDeletionAsync(config, services, workspace), completesDeletion: false);
        var supervisor = AddAlertmanager(config, services, tenancy)
            ?? throw new ConfigException("--target=alertmanager needs the Prometheus Alertmanager: set --alertmanager.binary");
        _routes.Add(app =>
        {
            tenancy.MapRoutes(app);
            app.MapAlertmanagerApi(supervisor, tenancy.Tenancy.Store, tenancy.Tenancy.Audit);
        });
    }

    /// <summary>Adds the supervisor when there is a binary (null otherwise: definitions are then refused).</summary>
    private AlertmanagerSupervisor? AddAlertmanager(AmphoraConfig config, IServiceProvider services, TenancyModule tenancy)
    {
        if (config.ResolvedAlertmanagerBinary() is not { } binary) return null;
        var supervisor = new AlertmanagerSupervisor(new AlertmanagerOptions
        {
            Binary = binary,
            Root = Path.Combine(config.DataDir, "alertmanager"),
            PublicBaseUrl = tenancy.Tenancy.Options.EndpointBaseUrl,
        }, tenancy.Tenancy.Store, tenancy.Tenancy.Rules, services.GetRequiredService<ILoggerFactory>());
        _services.Add(supervisor);
        Alertmanager = supervisor;
        return supervisor;
    }
}
