using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Amphora.Tenancy.Keys;

namespace Amphora.Tenancy.Tests;

/// <summary>A tenancy fixture, a real server over it, an admin key and one workspace: what the control-plane API tests call.</summary>
public sealed class AdminApi(TenancyFixture f, TestServer server, AuthenticationHeaderValue admin, string workspace) : IAsyncDisposable
{
    public TenancyFixture F { get; } = f;
    public TestServer Server { get; } = server;
    public AuthenticationHeaderValue Admin { get; } = admin;
    public string Workspace { get; } = workspace;

    public static async Task<AdminApi> StartAsync(string alias, Action<TenancyOptions>? configure = null)
    {
        var f = new TenancyFixture(configure);
        var admin = f.Keys.Create(null, [ApsActions.All]);
        var server = await TestServer.StartAsync(f);
        var ws = (await f.Registry.CreateAsync(alias, null, null)).WorkspaceId;
        return new AdminApi(f, server, Http.Basic(admin.Key.AccessKeyId, admin.SecretAccessKey), ws);
    }

    /// <summary>Sends a request with the admin key (or <paramref name="auth"/>); the body parsed when there is one.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> Send(HttpMethod method, string path,
        string? json = null, AuthenticationHeaderValue? auth = null)
    {
        var response = await Server.Client.SendAsync(Http.Request(method, path, auth ?? Admin, json));
        string text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, body, response);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        F.Dispose();
    }
}
