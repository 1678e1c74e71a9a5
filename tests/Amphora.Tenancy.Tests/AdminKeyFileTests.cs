using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Amphora.Tenancy.Auth;
using Amphora.Tenancy.Keys;
using Microsoft.AspNetCore.Http;

namespace Amphora.Tenancy.Tests;

public sealed class AdminKeyFileTests : IDisposable
{
    private const string Id = "OPERATORADMIN01";
    private const string Secret = "s3cret-from-a-kubernetes-Secret";
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private string WriteKeyFile(string json, string name = "admin-key.json")
    {
        string path = _dir.File(name);
        File.WriteAllText(path, json);
        return path;
    }

    private static AuthResult Authenticate(TenancyServices tenancy, string id, string secret) =>
        tenancy.Authenticator.Authenticate(new AuthRequest
        {
            Method = "GET", RawPath = "/workspaces", Headers = new HeaderDictionary { ["Authorization"] = $"Bearer {id}:{secret}" },
        });

    private TenancyServices Start(string keyFile) =>
        new(new TenancyOptions { DataDir = _dir.File("data"), AdminKeyFile = keyFile, ReloadInterval = TimeSpan.FromMilliseconds(50) });

    [Fact]
    public async Task The_admin_key_authenticates_for_every_workspace_besides_the_bootstrap_key_and_is_never_listed()
    {
        using var tenancy = Start(WriteKeyFile($$"""{"accessKeyId": "{{Id}}", "secretAccessKey": "{{Secret}}"}"""));
        var bootstrap = await tenancy.BootstrapAsync();
        Assert.NotNull(bootstrap);

        var admin = Authenticate(tenancy, Id, Secret);
        Assert.True(admin.Succeeded, admin.Reason);
        Assert.Null(admin.Key!.WorkspaceId);
        Assert.True(admin.Key.Allows(ApsActions.DeleteWorkspace) && admin.Key.Reaches("any-workspace"));
        Assert.True(Authenticate(tenancy, bootstrap.AccessKeyId, bootstrap.SecretAccessKey).Succeeded);
        Assert.Equal(AuthFailure.BadCredentials, Authenticate(tenancy, Id, Secret + "x").Failure);
        Assert.DoesNotContain(tenancy.Keys.List(), k => k.AccessKeyId == Id);
        Assert.Throws<TenancyException>(() => tenancy.Keys.SetEnabled(Id, false));
    }

    [Fact]
    public async Task The_admin_key_works_over_http_on_the_control_plane()
    {
        using var f = new TenancyFixture(o => o.AdminKeyFile = WriteKeyFile($$"""{"accessKeyId": "{{Id}}", "secretAccessKey": "{{Secret}}"}"""));
        await using var server = await TestServer.StartAsync(f);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/workspaces")
        {
            Content = new StringContent("""{"alias":"made-by-the-operator"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Id}:{Secret}")));
        var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Contains("made-by-the-operator", f.Registry.List(null, null, null).Page.Select(w => w.Alias));
    }

    [Fact]
    public async Task A_bootstrap_credentials_file_is_accepted_and_a_rotated_file_replaces_the_key()
    {
        string path = WriteKeyFile($$"""{"workspaceId": "default", "accessKeyId": "{{Id}}", "secretAccessKey": "{{Secret}}"}""");
        using var tenancy = Start(path);
        foreach (var s in tenancy.Services) await s.StartAsync(CancellationToken.None);
        try
        {
            Assert.True(Authenticate(tenancy, Id, Secret).Succeeded);
            File.WriteAllText(path, $$"""{"accessKeyId": "ROTATED02", "secretAccessKey": "{{Secret}}-rotated"}""");
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(5));
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (!Authenticate(tenancy, "ROTATED02", Secret + "-rotated").Succeeded && DateTime.UtcNow < deadline) await Task.Delay(20);
            Assert.True(Authenticate(tenancy, "ROTATED02", Secret + "-rotated").Succeeded);
            Assert.Equal(AuthFailure.UnknownKey, Authenticate(tenancy, Id, Secret).Failure);
        }
        finally
        {
            foreach (var s in tenancy.Services) await s.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData("not json", "must be JSON")]
    [InlineData("""{"secretAccessKey": "0123456789abcdefghij"}""", "accessKeyId must be")]
    [InlineData("""{"accessKeyId": "has space", "secretAccessKey": "0123456789abcdefghij"}""", "accessKeyId must be")]
    [InlineData("""{"accessKeyId": "ADMIN", "secretAccessKey": "short"}""", "secretAccessKey must be")]
    [InlineData("""{"accessKeyId": "ADMIN", "secretAccessKey": "0123456789 abcdefghij"}""", "secretAccessKey must be")]
    public void A_malformed_admin_key_file_is_refused_naming_the_file_and_the_field(string content, string expected)
    {
        string path = WriteKeyFile(content);
        var e = Assert.Throws<InvalidDataException>(() => AdminKeyFile.Load(path, DateTimeOffset.UtcNow));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void A_missing_admin_key_file_is_refused_naming_the_option()
    {
        var e = Assert.Throws<InvalidDataException>(() => AdminKeyFile.Load(_dir.File("absent.json"), DateTimeOffset.UtcNow));
        Assert.Contains("--auth.admin-key-file", e.Message);
    }
}
