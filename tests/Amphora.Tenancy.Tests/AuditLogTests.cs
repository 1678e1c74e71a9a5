using System.Net;
using System.Text.Json;
using Amphora.Tenancy.Keys;

namespace Amphora.Tenancy.Tests;

public sealed class AuditLogTests : IAsyncLifetime
{
    private readonly TenancyFixture _f = new();
    private TestServer _server = null!;
    private CreatedAccessKey _admin = null!;

    public async Task InitializeAsync()
    {
        _admin = _f.Keys.Create(null, [ApsActions.All]);
        _server = await TestServer.StartAsync(_f);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _f.Dispose();
    }

    [Fact]
    public async Task Each_control_plane_call_and_each_denial_is_one_JSON_line_without_secrets()
    {
        var admin = Http.Basic(_admin.Key.AccessKeyId, _admin.SecretAccessKey);
        var created = await _server.Client.SendAsync(Http.Request(HttpMethod.Post, "/workspaces", admin, """{"alias":"audited"}"""));
        string ws = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("workspaceId").GetString()!;
        var keyResponse = await _server.Client.SendAsync(Http.Request(HttpMethod.Post, $"/workspaces/{ws}/keys", admin, """{"actions":["aps:RemoteWrite"]}"""));
        var writer = JsonDocument.Parse(await keyResponse.Content.ReadAsStringAsync()).RootElement;
        string writerSecret = writer.GetProperty("secretAccessKey").GetString()!;
        string writerId = writer.GetProperty("accessKeyId").GetString()!;

        var denied = await _server.Client.SendAsync(Http.Request(HttpMethod.Get, $"/workspaces/{ws}/api/v1/query", Http.Basic(writerId, writerSecret)));
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        var wrong = await _server.Client.SendAsync(Http.Request(HttpMethod.Post, $"/workspaces/{ws}/api/v1/remote_write", Http.Basic(writerId, "guess-" + writerSecret), "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        var allowedWrite = await _server.Client.SendAsync(Http.Request(HttpMethod.Post, $"/workspaces/{ws}/api/v1/remote_write", Http.Basic(writerId, writerSecret), "x"));
        Assert.Equal(HttpStatusCode.NoContent, allowedWrite.StatusCode);

        var lines = await _f.AuditLinesAsync();
        Assert.Equal(4, lines.Length); // create, create key, the 403, the 401 — an allowed data-plane request is not audited
        var events = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["aps:CreateWorkspace", "aps:CreateAccessKey", "aps:QueryMetrics", "aps:RemoteWrite"],
            events.Select(e => e.GetProperty("action").GetString()));
        Assert.Equal(["allowed", "allowed", "denied", "denied"], events.Select(e => e.GetProperty("outcome").GetString()));
        Assert.Equal([202, 201, 403, 401], events.Select(e => e.GetProperty("status").GetInt32()));
        Assert.All(events, e => Assert.Equal("127.0.0.1", e.GetProperty("sourceAddress").GetString()));
        Assert.All(events, e => Assert.True(e.TryGetProperty("time", out _)));
        Assert.Equal(_admin.Key.AccessKeyId, events[0].GetProperty("keyId").GetString());
        Assert.Equal(ws, events[1].GetProperty("workspace").GetString());
        Assert.Equal(writerId, events[2].GetProperty("keyId").GetString());
        Assert.Contains("aps:QueryMetrics", events[2].GetProperty("reason").GetString());
        Assert.Equal(writerId, events[3].GetProperty("keyId").GetString());

        string all = string.Join('\n', lines);
        Assert.DoesNotContain(writerSecret, all);
        Assert.DoesNotContain(_admin.SecretAccessKey, all);
        Assert.DoesNotContain("Basic ", all);
    }
}
