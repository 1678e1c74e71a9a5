using Amphora.Alertmanager;
using Amphora.Distributor;
using Amphora.Distributor.Otlp;
using Amphora.Ingester;
using Amphora.Querier;
using Amphora.Querier.Api;
using Amphora.Ruler.Api;
using Amphora.Server.Config;
using Amphora.Storage;

namespace Amphora.Server;

public sealed partial class Modules
{
    /// <summary>Every component in one process: the distributor pushes into the local ingester, the querier reads it directly.</summary>
    private void AddAllInOne(AmphoraConfig config, IServiceProvider services)
    {
        var ingester = new IngesterService(config.DataDir, TsdbOptionsFrom(config, services), services.GetRequiredService<ILogger<IngesterService>>());
        var blocks = BlockStoreFrom(config, services, ingester.ServesBlock);
        var tenancy = AddTenancy(config, services, async workspace =>
        {
            await ingester.DropWorkspaceAsync(workspace);
            await MarkWorkspaceDeletedAsync(config, services, blocks, workspace);
        }, completesDeletion: true);
        _services.Add(ingester);
        tenancy.LimitSeriesOf(ingester);

        var storage = new RetentionWorkspaceQueryable(new MergeWorkspaceQueryable(ingester, blocks), tenancy.Tenancy.Retention);
        var querier = new QuerierService(storage, ingester, QuerierOptionsFrom(config)) { Limits = QueryLimitsFrom(tenancy), Exemplars = ingester };
        var distributor = NewDistributor(config, services, tenancy, new LocalIngesterPush(ingester));
        _services.Add(distributor);
        _services.Add(querier);
        AddCompactor(config, services, tenancy);
        var frontend = FrontendFor(config, querier);
        var alertmanager = AddAlertmanager(config, services, tenancy);
        var ruler = AddRuler(config, services, tenancy, querier, distributor, alertmanager);
        _routes.Add(app =>
        {
            tenancy.MapRoutes(app);
            if (alertmanager is not null) app.MapAlertmanagerApi(alertmanager, tenancy.Tenancy.Store, tenancy.Tenancy.Audit);
            app.MapRemoteWrite(distributor);
            app.MapOtlp(distributor);
            app.MapPrometheusApi(querier, frontend, TrustsFrontend(config));
            app.MapRulerApi(ruler);
        });
    }
}
