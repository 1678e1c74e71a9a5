using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.Operator.Api;
using Amphora.Testing;
using k8s;
using k8s.Models;
using Xunit;

namespace Amphora.Operator.Tests.Harness;

[CollectionDefinition(Name)]
public sealed class OperatorCollection : ICollectionFixture<OperatorEnvironment>
{
    public const string Name = "operator";
}

/// <summary>
/// What every operator test shares, started once: a real kube-apiserver and etcd with Amphora's CRDs applied, and a real
/// Amphora (<c>--target=all --auth=keys</c>) given an admin key through <c>--auth.admin-key-file</c>, the same file the
/// operators read through <c>--operator.admin-key-file</c>. Each test makes its own
/// namespace and starts its own operator process(es) watching only that namespace, with a Lease of their own.
/// </summary>
public sealed class OperatorEnvironment : IAsyncLifetime
{
    private readonly SharedAssets.Found _assets = SharedAssets.Find(SharedAssets.KubernetesApiServer);
    private KubeApiServer? _kube;
    private AmphoraProcess? _amphora;

    public KubeApiServer Kube => _kube ?? throw new InvalidOperationException("the API server did not start");
    public AmphoraProcess Amphora => _amphora ?? throw new InvalidOperationException("amphora did not start");
    public IKubernetes Client { get; private set; } = null!;
    private readonly string _keyDir = Directory.CreateTempSubdirectory("amphora-operator-key-").FullName;
    public string AdminKeyFile => Path.Combine(_keyDir, "admin-key.json");
    public HttpClient AmphoraAdmin { get; private set; } = null!;

    /// <summary>Skips (or, with AMPHORA_REQUIRE_SHARED_ASSETS=1, fails) a test when the API server assets are missing.</summary>
    public void RequireAssets() => SharedAssets.Require(SharedAssets.KubernetesApiServer);

    public async Task InitializeAsync()
    {
        if (_assets.Path is null) return;
        var kube = KubeApiServer.StartAsync(_assets.Path);
        string secret = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        await File.WriteAllTextAsync(AdminKeyFile,
            new JsonObject { ["accessKeyId"] = "OPERATORADMIN", ["secretAccessKey"] = secret }.ToJsonString());
        _amphora = AmphoraProcess.Start(null, null, "--auth=keys", $"--auth.admin-key-file={AdminKeyFile}");
        _kube = await kube;
        Client = _kube.NewClient();
        await _amphora.WaitReadyAsync();
        var creds = JsonNode.Parse(await File.ReadAllTextAsync(AdminKeyFile))!;
        AmphoraAdmin = new HttpClient { BaseAddress = Amphora.BaseAddress };
        AmphoraAdmin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{creds["accessKeyId"]}:{creds["secretAccessKey"]}")));
        await ApplyCrdsAsync();
    }

    private async Task ApplyCrdsAsync()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(RepoPaths.Root, "crds"), "*.yaml"))
        {
            var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(await File.ReadAllTextAsync(file));
            await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
        }
        await Eventually.HoldsAsync(async () =>
        {
            var list = await Client.ApiextensionsV1.ListCustomResourceDefinitionAsync();
            return list.Items.Count(c => c.Spec.Group == AmphoraApi.Group
                && c.Status?.Conditions?.Any(x => x.Type == "Established" && x.Status == "True") == true) == 4;
        }, () => "the four CRDs to be established");
    }

    /// <summary>A fresh namespace (deleted namespaces never finish terminating on an API server without controllers).</summary>
    public async Task<string> NewNamespaceAsync()
    {
        string name = "t-" + Guid.NewGuid().ToString("N")[..10];
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });
        return name;
    }

    /// <summary>An operator process watching <paramref name="ns"/>, electing its leader on a Lease there, with <paramref name="extraArgs"/>.</summary>
    public async Task<AmphoraProcess> StartOperatorAsync(string ns, string identity, bool waitReady = true, params string[] extraArgs)
    {
        var op = AmphoraProcess.Start(null, null,
        [
            "--target=operator", $"--operator.kubeconfig={Kube.KubeconfigPath}", $"--operator.amphora-url={Amphora.BaseAddress}",
            $"--operator.admin-key-file={AdminKeyFile}", $"--operator.namespace={ns}", $"--operator.lease-namespace={ns}",
            $"--operator.identity={identity}", "--operator.lease-duration=4s", "--operator.backoff-base=250ms",
            "--operator.backoff-max=4s", .. extraArgs,
        ]);
        if (waitReady) await op.WaitReadyAsync();
        return op;
    }

    /// <summary>The control plane's JSON for a path, as the admin sees it.</summary>
    public async Task<(int Status, JsonNode? Body)> AmphoraGetAsync(string path)
    {
        using var r = await AmphoraAdmin.GetAsync(path);
        string text = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public Task DisposeAsync()
    {
        AmphoraAdmin?.Dispose();
        Client?.Dispose();
        _amphora?.Dispose();
        _kube?.Dispose();
        try { Directory.Delete(_keyDir, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}
