using System.Text.Json.Nodes;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.Operator.Tests.Harness;
using Amphora.Testing;
using Xunit;

namespace Amphora.Chart.Tests;

[CollectionDefinition(Name)]
public sealed class ApiServerCollection : ICollectionFixture<ApiServerFixture>
{
    public const string Name = "chart-api-server";
}

/// <summary>A real kube-apiserver with etcd (KUBEBUILDER_ASSETS), the chart's CRDs created and established, shared by a class.</summary>
public sealed class ApiServerFixture : IAsyncLifetime
{
    private readonly SharedAssets.Found _assets = SharedAssets.Find(SharedAssets.KubernetesApiServer);
    private readonly SharedAssets.Found _renderer = SharedAssets.Find(SharedAssets.ChartRenderer);
    private KubeApiServer? _kube;

    public KubeApiServer Kube => _kube ?? throw new InvalidOperationException("the API server did not start");
    public KubeRest Admin { get; private set; } = null!;

    /// <summary>Skips (or, with AMPHORA_REQUIRE_SHARED_ASSETS=1, fails) a test when the API server or chart-render is missing.</summary>
    public void RequireAssets()
    {
        SharedAssets.Require(SharedAssets.KubernetesApiServer);
        SharedAssets.Require(SharedAssets.ChartRenderer);
    }

    public async Task InitializeAsync()
    {
        // Without either asset the tests skip (or fail) with the reason from RequireAssets; nothing is started.
        if (_assets.Path is null || _renderer.Path is null) return;
        _kube = await KubeApiServer.StartAsync(_assets.Path);
        Admin = new KubeRest(_kube.Url, _kube.CaCertificate, _kube.Token);
        var crds = await ChartRenderer.RenderAsync();
        if (crds.ExitCode != 0) throw new InvalidOperationException(crds.Errors);
        foreach (var crd in crds.Objects.Where(o => o.Kind == "CustomResourceDefinition"))
        {
            var created = await Admin.CreateAsync(crd, null, dryRun: false);
            if (!created.Ok) throw new InvalidOperationException($"{crd}: {created}");
            await Eventually.HoldsAsync(async () =>
            {
                var got = await Admin.SendAsync(HttpMethod.Get, $"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd.Name}");
                return got.Ok && JsonNode.Parse(got.Body)?["status"]?["conditions"]?.AsArray()
                    .Any(c => (string?)c?["type"] == "Established" && (string?)c?["status"] == "True") == true;
            }, () => $"{crd} established");
        }
    }

    public async Task<string> NewNamespaceAsync(string prefix)
    {
        string name = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        var r = await Admin.SendAsync(HttpMethod.Post, "/api/v1/namespaces",
            new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = name } });
        if (!r.Ok) throw new InvalidOperationException($"namespace {name}: {r}");
        return name;
    }

    public Task DisposeAsync()
    {
        Admin?.Dispose();
        _kube?.Dispose();
        return Task.CompletedTask;
    }
}
