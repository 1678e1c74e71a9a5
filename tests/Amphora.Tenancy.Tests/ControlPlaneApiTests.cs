using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Amphora.Tenancy.Keys;

namespace Amphora.Tenancy.Tests;

/// <summary>The control-plane API over a real Kestrel with an admin key, as a client of AMP's API would use it.</summary>
public sealed class ControlPlaneApiTests : IAsyncLifetime
{
    private readonly TenancyFixture _f = new();
    private TestServer _server = null!;
    private AuthenticationHeaderValue _admin = null!;

    public async Task InitializeAsync()
    {
        var admin = _f.Keys.Create(null, [ApsActions.All]);
        _admin = Http.Basic(admin.Key.AccessKeyId, admin.SecretAccessKey);
        _server = await TestServer.StartAsync(_f);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _f.Dispose();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> Send(HttpMethod method, string path, string? json = null)
    {
        var response = await _server.Client.SendAsync(Http.Request(method, path, _admin, json));
        string text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, body, response);
    }

    [Fact]
    public async Task A_workspace_is_created_described_renamed_configured_tagged_and_deleted()
    {
        var (status, created, _) = await Send(HttpMethod.Post, "/workspaces", """{"alias":"prod","tags":{"team":"a"},"clientToken":"c1"}""");
        Assert.Equal(HttpStatusCode.Accepted, status);
        string id = created.GetProperty("workspaceId").GetString()!;
        string arn = created.GetProperty("arn").GetString()!;
        Assert.StartsWith("ws-", id);
        Assert.Equal("CREATING", created.GetProperty("status").GetProperty("statusCode").GetString());
        Assert.Equal("a", created.GetProperty("tags").GetProperty("team").GetString());

        var (_, described, _) = await Send(HttpMethod.Get, $"/workspaces/{id}");
        var ws = described.GetProperty("workspace");
        Assert.Equal("ACTIVE", ws.GetProperty("status").GetProperty("statusCode").GetString());
        Assert.Equal("prod", ws.GetProperty("alias").GetString());
        Assert.Equal($"http://127.0.0.1:9009/workspaces/{id}/", ws.GetProperty("prometheusEndpoint").GetString());
        Assert.True(ws.GetProperty("createdAt").GetDouble() > 1.7e9);

        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Post, $"/workspaces/{id}/alias", """{"alias":"production"}""")).Status);
        Assert.Equal("production", (await Send(HttpMethod.Get, $"/workspaces/{id}")).Body.GetProperty("workspace").GetProperty("alias").GetString());

        var (cfgStatus, cfgBody, _) = await Send(HttpMethod.Patch, $"/workspaces/{id}/configuration",
            """{"retentionPeriodInDays":90,"limitsPerLabelSet":[{"labelSet":{"team":"a"},"limits":{"maxSeries":1000}}]}""");
        Assert.Equal(HttpStatusCode.Accepted, cfgStatus);
        Assert.Equal("UPDATING", cfgBody.GetProperty("status").GetProperty("statusCode").GetString());
        var config = (await Send(HttpMethod.Get, $"/workspaces/{id}/configuration")).Body.GetProperty("workspaceConfiguration");
        Assert.Equal(90, config.GetProperty("retentionPeriodInDays").GetInt32());
        Assert.Equal(1000, config.GetProperty("limitsPerLabelSet")[0].GetProperty("limits").GetProperty("maxSeries").GetInt64());
        Assert.Equal("a", config.GetProperty("limitsPerLabelSet")[0].GetProperty("labelSet").GetProperty("team").GetString());

        string encodedArn = Uri.EscapeDataString(arn);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Post, $"/tags/{encodedArn}", """{"tags":{"env":"prod"}}""")).Status);
        var tags = (await Send(HttpMethod.Get, $"/tags/{encodedArn}")).Body.GetProperty("tags");
        Assert.Equal("prod", tags.GetProperty("env").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Delete, $"/tags/{encodedArn}?tagKeys=env&tagKeys=team")).Status);
        Assert.Empty((await Send(HttpMethod.Get, $"/tags/{encodedArn}")).Body.GetProperty("tags").EnumerateObject());

        Assert.Equal(HttpStatusCode.Accepted, (await Send(HttpMethod.Delete, $"/workspaces/{id}")).Status);
        await _f.Registry.WhenIdleAsync();
        var (goneStatus, gone, goneResponse) = await Send(HttpMethod.Get, $"/workspaces/{id}");
        Assert.Equal(HttpStatusCode.NotFound, goneStatus);
        Assert.Contains(id, gone.GetProperty("message").GetString());
        Assert.Equal("ResourceNotFoundException", goneResponse.Headers.GetValues("x-amzn-ErrorType").Single());
    }

    [Fact]
    public async Task Listing_returns_pages_with_a_next_token_and_filters_by_alias()
    {
        for (int i = 0; i < 5; i++) await Send(HttpMethod.Post, "/workspaces", $$"""{"alias":"team-{{i}}"}""");
        await Send(HttpMethod.Post, "/workspaces", """{"alias":"other"}""");
        var ids = new List<string>();
        string? token = null;
        do
        {
            string url = "/workspaces?alias=team-&maxResults=2" + (token is null ? "" : "&nextToken=" + Uri.EscapeDataString(token));
            var (status, body, _) = await Send(HttpMethod.Get, url);
            Assert.Equal(HttpStatusCode.OK, status);
            foreach (var w in body.GetProperty("workspaces").EnumerateArray()) ids.Add(w.GetProperty("workspaceId").GetString()!);
            token = body.TryGetProperty("nextToken", out var t) ? t.GetString() : null;
        } while (token is not null);
        Assert.Equal(5, ids.Distinct().Count());
    }

    [Theory]
    [InlineData("""{"retentionPeriodInDays":0}""", "retentionPeriodInDays")]
    [InlineData("""{"retentionPeriodInDays":2000}""", "retentionPeriodInDays")]
    [InlineData("""{"limitsPerLabelSet":[{"labelSet":{"0bad":"x"},"limits":{"maxSeries":5}}]}""", "labelSet")]
    [InlineData("""{"limitsPerLabelSet":[{"labelSet":{"a":"x"},"limits":{"maxSeries":-5}}]}""", "maxSeries")]
    [InlineData("""{"retentionPeriodInDays":"ten"}""", "not valid JSON")]
    [InlineData("""{}""", "at least one")]
    [InlineData("""{"limits":{"ingestionRate":0}}""", "limits.ingestionRate: 0 must be a positive number")]
    [InlineData("""{"limits":{"maxSeries":-1}}""", "limits.maxSeries: -1 must be positive")]
    [InlineData("""{"limits":{"maxSeriesPerMetric":0}}""", "limits.maxSeriesPerMetric")]
    [InlineData("""{"limits":{"ingestionBurstSize":0}}""", "limits.ingestionBurstSize")]
    public async Task An_invalid_configuration_patch_is_a_validation_error_naming_the_field(string json, string mentioned)
    {
        var id = (await Send(HttpMethod.Post, "/workspaces", "{}")).Body.GetProperty("workspaceId").GetString();
        var (status, body, response) = await Send(HttpMethod.Patch, $"/workspaces/{id}/configuration", json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(mentioned, body.GetProperty("message").GetString());
        Assert.Equal("ValidationException", response.Headers.GetValues("x-amzn-ErrorType").Single());
        Assert.Equal(150, _f.Registry.Describe(id!).Configuration.RetentionPeriodInDays);
    }

    [Fact]
    public async Task Errors_have_AMP_statuses()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, "/workspaces/ws-missing")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Post, "/workspaces", """{"alias":""}""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Get, "/workspaces?maxResults=5000")).Status);
        await Send(HttpMethod.Post, "/workspaces", """{"alias":"x","clientToken":"t"}""");
        Assert.Equal(HttpStatusCode.Conflict, (await Send(HttpMethod.Post, "/workspaces", """{"alias":"y","clientToken":"t"}""")).Status);
        var unauthenticated = await _server.Client.GetAsync("/workspaces");
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
        Assert.Contains("\"message\"", await unauthenticated.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Access_keys_are_created_once_with_their_secret_listed_without_it_disabled_and_deleted()
    {
        var id = (await Send(HttpMethod.Post, "/workspaces", "{}")).Body.GetProperty("workspaceId").GetString();
        var (status, created, _) = await Send(HttpMethod.Post, $"/workspaces/{id}/keys", """{"actions":["aps:RemoteWrite"]}""");
        Assert.Equal(HttpStatusCode.Created, status);
        string keyId = created.GetProperty("accessKeyId").GetString()!;
        string secret = created.GetProperty("secretAccessKey").GetString()!;

        var write = await _server.Client.SendAsync(Http.Request(HttpMethod.Post, $"/workspaces/{id}/api/v1/remote_write", Http.Basic(keyId, secret), "x"));
        Assert.Equal(HttpStatusCode.NoContent, write.StatusCode);

        var listText = await (await _server.Client.SendAsync(Http.Request(HttpMethod.Get, $"/workspaces/{id}/keys", _admin))).Content.ReadAsStringAsync();
        Assert.Contains(keyId, listText);
        Assert.DoesNotContain(secret, listText);
        Assert.DoesNotContain("secretAccessKey", listText);

        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Post, $"/workspaces/{id}/keys/{keyId}/disable")).Status);
        var refused = await _server.Client.SendAsync(Http.Request(HttpMethod.Post, $"/workspaces/{id}/api/v1/remote_write", Http.Basic(keyId, secret), "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Delete, $"/workspaces/{id}/keys/{keyId}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Delete, $"/workspaces/{id}/keys/{keyId}")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Post, $"/workspaces/{id}/keys", """{"actions":["aps:Nope"]}""")).Status);
    }

    [Fact]
    public async Task Deleting_a_workspace_revokes_its_keys()
    {
        var id = (await Send(HttpMethod.Post, "/workspaces", "{}")).Body.GetProperty("workspaceId").GetString();
        var created = (await Send(HttpMethod.Post, $"/workspaces/{id}/keys", """{"actions":["aps:QueryMetrics"]}""")).Body;
        await Send(HttpMethod.Delete, $"/workspaces/{id}");
        Assert.Null(_f.Keys.Find(created.GetProperty("accessKeyId").GetString()!));
    }
}
