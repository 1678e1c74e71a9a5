using System.Net;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Access;

/// <summary>
/// amphora with --auth=keys: Debian's Prometheus remote-writes with basic auth, a bearer token and SigV4; a wrong secret
/// stores nothing; keys reach only their workspace and their actions; control-plane calls and denials are audited.
/// </summary>
public sealed class AccessTests : IAsyncLifetime
{
    private AmphoraProcess _amphora = null!;
    private AccessClient _client = null!;
    private Key _admin = null!;
    private string _auditFile = null!;
    private static readonly Key FileAdmin = new("OPERATORADMIN", "admin-secret-from-a-mounted-file");

    public async Task InitializeAsync()
    {
        string dataDir = RepoPaths.NewTempDir("amphora-access");
        _auditFile = Path.Combine(dataDir, "audit.log");
        string adminKeyFile = Path.Combine(dataDir, "admin-key.json");
        File.WriteAllText(adminKeyFile, $$"""{"accessKeyId": "{{FileAdmin.Id}}", "secretAccessKey": "{{FileAdmin.Secret}}"}""");
        _amphora = AmphoraProcess.Start(dataDir, null, "--auth=keys", $"--audit.log-file={_auditFile}", $"--auth.admin-key-file={adminKeyFile}");
        await _amphora.WaitReadyAsync();
        _client = new AccessClient(_amphora.BaseAddress);
        _admin = AccessClient.BootstrapKey(dataDir);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _amphora.TerminateAsync(TimeSpan.FromSeconds(30));
        _amphora.Dispose();
    }

    [Fact]
    public async Task Prometheus_writes_with_basic_auth_and_bearer_and_a_wrong_secret_stores_nothing()
    {
        var workspaces = new Dictionary<string, string>();
        var keys = new Dictionary<string, Key>();
        foreach (var way in new[] { "basic", "bearer", "wrong" })
        {
            workspaces[way] = await _client.CreateWorkspaceAsync(_admin, "rw-" + way);
            keys[way] = await _client.CreateKeyAsync(_admin, workspaces[way], "aps:RemoteWrite");
        }
        int promPort = FreePort.Next();
        string Url(string way) => $"http://127.0.0.1:{_amphora.Port}/workspaces/{workspaces[way]}/api/v1/remote_write";
        using var prometheus = PrometheusProcess.Start($$"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: prometheus
                static_configs: [{ targets: ['127.0.0.1:{{promPort}}'] }]
            remote_write:
              - url: {{Url("basic")}}
                basic_auth: { username: {{keys["basic"].Id}}, password: {{keys["basic"].Secret}} }
                queue_config: { batch_send_deadline: 200ms }
              - url: {{Url("bearer")}}
                authorization: { type: Bearer, credentials: "{{keys["bearer"].Id}}:{{keys["bearer"].Secret}}" }
                queue_config: { batch_send_deadline: 200ms }
              - url: {{Url("wrong")}}
                basic_auth: { username: {{keys["wrong"].Id}}, password: not-the-secret }
                queue_config: { batch_send_deadline: 200ms, min_backoff: 50ms, max_backoff: 100ms }
            """, promPort);
        await prometheus.WaitReadyAsync();

        var deadline = DateTime.UtcNow.AddSeconds(40);
        var arrived = new HashSet<string>();
        while (DateTime.UtcNow < deadline && arrived.Count < 2)
        {
            await Task.Delay(1000);
            foreach (var way in new[] { "basic", "bearer" })
            {
                if (arrived.Contains(way)) continue;
                var (status, body) = await _client.SendAsync(HttpMethod.Get,
                    $"/workspaces/{workspaces[way]}/api/v1/query?query=count(up)", _admin);
                if (status == HttpStatusCode.OK && body.Contains("\"1\"")) arrived.Add(way);
            }
        }
        Assert.True(arrived.Count == 2, $"data arrived only for [{string.Join(", ", arrived)}]\n{prometheus.Output}\n{_amphora.Output}");

        var (_, wrongBody) = await _client.SendAsync(HttpMethod.Get, $"/workspaces/{workspaces["wrong"]}/api/v1/query?query=count(up)", _admin);
        Assert.Contains("\"result\":[]", wrongBody);
        Assert.Contains("non-recoverable error", prometheus.Output);
        Assert.Contains("401", prometheus.Output);
    }

    [Fact]
    public async Task A_push_and_a_query_signed_by_the_aws_sdk_are_accepted_a_retry_too_and_tampering_is_refused()
    {
        string ws = await _client.CreateWorkspaceAsync(_admin, "sigv4");
        var writer = await _client.CreateKeyAsync(_admin, ws, "aps:RemoteWrite", "aps:QueryMetrics");
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        byte[] body = IronSnappy.Snappy.Encode(new WriteRequestBuilder().Series("__name__=\"signed_metric\"", (now, 42)).Encode());
        using var http = new HttpClient { BaseAddress = _amphora.BaseAddress };

        HttpRequestMessage Push(byte[] content, Key key)
        {
            var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_amphora.BaseAddress, $"/workspaces/{ws}/api/v1/remote_write"))
            {
                Content = new ByteArrayContent(content),
            };
            message.Content.Headers.ContentType = new("application/x-protobuf");
            message.Content.Headers.ContentEncoding.Add("snappy");
            AwsSdkSigner.Sign(message, content, key, "eu-west-1");
            return message;
        }

        using var signed = Push(body, writer);
        var signature = signed.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value));
        Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(signed)).StatusCode);
        using (var replay = new HttpRequestMessage(HttpMethod.Post, signed.RequestUri) { Content = new ByteArrayContent(body) })
        {
            // The very same signed request sent a second time, as a sender's retry: accepted within the signature's
            // ±5 minute window, as AWS does (no replay cache); the duplicate sample is the same value, so nothing changes.
            replay.Content.Headers.ContentType = new("application/x-protobuf");
            replay.Content.Headers.ContentEncoding.Add("snappy");
            foreach (var (name, value) in signature) replay.Headers.TryAddWithoutValidation(name, value);
            Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(replay)).StatusCode);
        }
        using (var tampered = Push(body, writer))
        {
            var other = IronSnappy.Snappy.Encode(new WriteRequestBuilder().Series("__name__=\"signed_metric\"", (now + 1, 666)).Encode());
            tampered.Content = new ByteArrayContent(other);
            tampered.Content.Headers.ContentType = new("application/x-protobuf");
            tampered.Content.Headers.ContentEncoding.Add("snappy");
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(tampered)).StatusCode);
        }
        // The last character changed to one it is not: a fixed replacement such as "x" would, for a secret that ends
        // in "x" (about one in 60), sign with the right secret and be accepted.
        string wrong = writer.Secret[..^1] + (writer.Secret[^1] == 'x' ? 'y' : 'x');
        using (var wrongSecret = Push(body, writer with { Secret = wrong }))
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrongSecret)).StatusCode);

        using var query = new HttpRequestMessage(HttpMethod.Get, new Uri(_amphora.BaseAddress, $"/workspaces/{ws}/api/v1/query?query=signed_metric"));
        AwsSdkSigner.Sign(query, [], writer, "us-east-1");
        var result = await http.SendAsync(query);
        string text = await result.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        Assert.Contains("\"42\"", text);
        // The value as the API writes it, in quotes: a bare 666 is also in about one timestamp in 90 (this run's was 1796665676.801).
        Assert.DoesNotContain("\"666\"", text);
    }

    [Fact]
    public async Task The_admin_key_of_the_admin_key_file_manages_workspaces_besides_the_bootstrap_key_and_is_not_listed()
    {
        string ws = await _client.CreateWorkspaceAsync(FileAdmin, "by-the-file-admin");
        var writer = await _client.CreateKeyAsync(FileAdmin, ws, "aps:RemoteWrite");
        Assert.Equal(HttpStatusCode.NoContent, (await _client.PushAsync(ws, writer, new WriteRequestBuilder()
            .Series("__name__=\"admin_file_metric\"", (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 1)))).Item1);
        var (status, keys) = await _client.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/keys", _admin);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(writer.Id, keys);
        Assert.DoesNotContain(FileAdmin.Id, keys);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(HttpMethod.Get, "/workspaces", FileAdmin with { Secret = "wrong" + FileAdmin.Secret })).Status);
    }

    [Fact]
    public async Task Keys_reach_only_their_workspace_and_their_actions()
    {
        string a = await _client.CreateWorkspaceAsync(_admin, "iso-a");
        string b = await _client.CreateWorkspaceAsync(_admin, "iso-b");
        string[] readActions = ["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"];
        var keys = new Dictionary<string, Key>
        {
            ["a-writer"] = await _client.CreateKeyAsync(_admin, a, "aps:RemoteWrite"),
            ["a-reader"] = await _client.CreateKeyAsync(_admin, a, readActions),
            ["b-writer"] = await _client.CreateKeyAsync(_admin, b, "aps:RemoteWrite"),
            ["b-reader"] = await _client.CreateKeyAsync(_admin, b, readActions),
        };
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Equal(HttpStatusCode.NoContent, (await _client.PushAsync(a, keys["a-writer"], new WriteRequestBuilder()
            .Series("__name__=\"secret_of_a\",only_in_a=\"x\"", (now, 1)))).Item1);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.PushAsync(b, keys["b-writer"], new WriteRequestBuilder()
            .Series("__name__=\"secret_of_b\",only_in_b=\"y\"", (now, 2)))).Item1);

        var endpoints = new (string Name, string Action, Func<string, Key?, Task<(HttpStatusCode, string)>> Call)[]
        {
            ("push", "write", (ws, k) => _client.PushAsync(ws, k, new WriteRequestBuilder().Series("__name__=\"probe\"", (now, 3)))),
            ("query", "read", (ws, k) => _client.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/query?query={{__name__=~\".%2B\"}}", k)),
            ("series", "read", (ws, k) => _client.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/series?match[]={{__name__=~\".%2B\"}}", k)),
            ("labels", "read", (ws, k) => _client.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/labels", k)),
            ("label values", "read", (ws, k) => _client.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/label/__name__/values", k)),
            ("metadata", "read", (ws, k) => _client.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/metadata", k)),
            ("describe workspace", "admin", (ws, k) => _client.SendAsync(HttpMethod.Get, $"/workspaces/{ws}", k)),
        };
        var wrong = new List<string>();
        foreach (var (target, targetName) in new[] { (a, "a"), (b, "b") })
        foreach (var (endpoint, kind, call) in endpoints)
        foreach (var keyName in new[] { "none", "a-writer", "a-reader", "b-writer", "b-reader" })
        {
            Key? key = keyName == "none" ? null : keys[keyName];
            var (status, body) = await call(target, key);
            HttpStatusCode expected = keyName == "none" ? HttpStatusCode.Unauthorized
                : !keyName.StartsWith(targetName, StringComparison.Ordinal) ? HttpStatusCode.Forbidden
                : kind == "admin" ? HttpStatusCode.Forbidden
                : (kind == "write") == keyName.EndsWith("writer", StringComparison.Ordinal)
                    ? (kind == "write" ? HttpStatusCode.NoContent : HttpStatusCode.OK)
                    : HttpStatusCode.Forbidden;
            if (status != expected) wrong.Add($"{keyName} → {endpoint} of {targetName}: {(int)status}, expected {(int)expected}: {body}");
            string other = targetName == "a" ? "b" : "a";
            if (status == HttpStatusCode.OK && (body.Contains("secret_of_" + other) || body.Contains("only_in_" + other)))
                wrong.Add($"{keyName} → {endpoint} of {targetName} shows workspace {other}'s data: {body}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));

        var (_, labels) = await _client.SendAsync(HttpMethod.Get, $"/workspaces/{a}/api/v1/labels", keys["a-reader"]);
        Assert.Contains("only_in_a", labels);
    }

    [Fact]
    public async Task Control_plane_calls_and_denials_are_audited_without_secrets()
    {
        string ws = await _client.CreateWorkspaceAsync(_admin, "audited");
        var writer = await _client.CreateKeyAsync(_admin, ws, "aps:RemoteWrite");
        var (denied, _) = await _client.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/query?query=up", writer);
        Assert.Equal(HttpStatusCode.Forbidden, denied);

        await Task.Delay(500);
        var lines = File.ReadAllLines(_auditFile).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(lines, l => l.GetProperty("action").GetString() == "aps:CreateWorkspace" && l.GetProperty("outcome").GetString() == "allowed");
        Assert.Contains(lines, l => l.GetProperty("keyId").GetString() == writer.Id && l.GetProperty("outcome").GetString() == "denied"
                                    && l.GetProperty("workspace").GetString() == ws);
        string all = File.ReadAllText(_auditFile);
        Assert.DoesNotContain(_admin.Secret, all);
        Assert.DoesNotContain(writer.Secret, all);
    }
}
