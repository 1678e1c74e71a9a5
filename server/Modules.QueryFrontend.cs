using System.Net.Http.Headers;
using System.Text;
using Amphora.Querier.Api;
using Amphora.Querier.Frontend;
using Amphora.Server.Config;

namespace Amphora.Server;

public sealed partial class Modules
{
    /// <summary>
    /// <c>--target=query-frontend</c>: authenticates and authorises requests with the shared tenancy, queues, splits and
    /// caches queries (<see cref="QueryFrontend"/>) and sends them, and the API's other endpoints, to the queriers at
    /// <c>--query-frontend.downstream-url</c> with the admin key of <c>--auth.admin-key-file</c>.
    /// </summary>
    private void AddQueryFrontend(AmphoraConfig config, IServiceProvider services)
    {
        var tenancy = AddTenancy(config, services, workspace => RequestWorkspaceDeletionAsync(config, services, workspace), completesDeletion: false);
        var credential = DownstreamCredential(config);
        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            BaseAddress = new Uri(config.QueryFrontendDownstreamUrl),
            Timeout = Timeout.InfiniteTimeSpan, // each query carries its own deadline
        };
        var backend = new HttpQueryBackend(http, () => credential, QuerierOptionsFrom(config), QueryLimitsFrom(tenancy));
        var frontend = FrontendFor(config, backend, always: true)!;
        var forwarder = new QueryForwarder(http, () => credential);
        _routes.Add(app =>
        {
            tenancy.MapRoutes(app);
            app.MapQueryFrontendApi(frontend, forwarder.ForwardAsync);
        });
    }

    /// <summary>HTTP basic auth with the admin key's id and secret, or none with <c>--auth=none</c>.</summary>
    private static AuthenticationHeaderValue? DownstreamCredential(AmphoraConfig config)
    {
        if (config.Auth == AuthMode.None || config.AdminKeyFile is null) return null;
        try
        {
            var key = Amphora.Operator.ControlPlane.ControlPlaneClient.ReadCredentials(config.AdminKeyFile);
            return new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key.AccessKeyId}:{key.SecretAccessKey}")));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            throw new ConfigException($"--auth.admin-key-file \"{config.AdminKeyFile}\": {e.Message}");
        }
    }
}
