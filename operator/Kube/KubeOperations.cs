using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Amphora.Operator.Api;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Amphora.Operator.Kube;

/// <summary>
/// The writes the operator makes to the API server: status through the status subresource, finalizers and annotations by
/// merge patches guarded by the object's resourceVersion, and owned objects by server-side apply under one field manager.
/// </summary>
public sealed class KubeOperations(IKubernetes client)
{
    public const string FieldManager = "amphora-operator";
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public IKubernetes Client => client;

    /// <summary>Replaces the status (a merge patch of <c>status</c> on the status subresource).</summary>
    public async Task PatchStatusAsync<T>(T resource, string plural, object status, CancellationToken ct) where T : IAmphoraResource
    {
        var body = new JsonObject { ["status"] = JsonSerializer.SerializeToNode(status, status.GetType(), Json) };
        await client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch(body.ToJsonString(), V1Patch.PatchType.MergePatch),
            AmphoraApi.Group, AmphoraApi.Version, resource.Metadata.NamespaceProperty, plural, resource.Metadata.Name, cancellationToken: ct);
    }

    /// <summary>Adds or removes the finalizer; fails with 409 when the object changed since it was read.</summary>
    public async Task SetFinalizerAsync<T>(T resource, string plural, bool present, CancellationToken ct) where T : IAmphoraResource
    {
        var list = new List<string>(resource.Metadata.Finalizers ?? []);
        if (present == list.Contains(AmphoraApi.Finalizer)) return;
        if (present) list.Add(AmphoraApi.Finalizer);
        else list.Remove(AmphoraApi.Finalizer);
        var array = new JsonArray();
        foreach (var f in list) array.Add(f);
        var body = new JsonObject
        {
            ["metadata"] = new JsonObject { ["finalizers"] = array, ["resourceVersion"] = resource.Metadata.ResourceVersion },
        };
        await PatchMetadataAsync(resource, plural, body, ct);
        resource.Metadata.Finalizers = list;
    }

    public async Task SetAnnotationAsync<T>(T resource, string plural, string name, string value, CancellationToken ct) where T : IAmphoraResource
    {
        if (resource.Metadata.Annotations?.TryGetValue(name, out var current) == true && current == value) return;
        var body = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [name] = value } } };
        await PatchMetadataAsync(resource, plural, body, ct);
        resource.Metadata.Annotations ??= new Dictionary<string, string>();
        resource.Metadata.Annotations[name] = value;
    }

    private async Task PatchMetadataAsync<T>(T resource, string plural, JsonObject body, CancellationToken ct) where T : IAmphoraResource
    {
        var updated = await client.CustomObjects.PatchNamespacedCustomObjectAsync<JsonElement>(
            new V1Patch(body.ToJsonString(), V1Patch.PatchType.MergePatch), AmphoraApi.Group, AmphoraApi.Version,
            resource.Metadata.NamespaceProperty, plural, resource.Metadata.Name, cancellationToken: ct);
        if (updated.TryGetProperty("metadata", out var m) && m.TryGetProperty("resourceVersion", out var rv))
            resource.Metadata.ResourceVersion = rv.GetString();
    }

    /// <summary>Reads a Secret; null when it does not exist.</summary>
    public async Task<V1Secret?> GetSecretAsync(string ns, string name, CancellationToken ct)
    {
        try
        {
            return await client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public Task ApplySecretAsync(V1Secret secret, CancellationToken ct) =>
        client.CoreV1.PatchNamespacedSecretAsync(Apply(secret), secret.Metadata.Name, secret.Metadata.NamespaceProperty,
            fieldManager: FieldManager, force: true, cancellationToken: ct);

    public Task ApplyConfigMapAsync(V1ConfigMap map, CancellationToken ct) =>
        client.CoreV1.PatchNamespacedConfigMapAsync(Apply(map), map.Metadata.Name, map.Metadata.NamespaceProperty,
            fieldManager: FieldManager, force: true, cancellationToken: ct);

    public Task ApplyServiceAccountAsync(V1ServiceAccount sa, CancellationToken ct) =>
        client.CoreV1.PatchNamespacedServiceAccountAsync(Apply(sa), sa.Metadata.Name, sa.Metadata.NamespaceProperty,
            fieldManager: FieldManager, force: true, cancellationToken: ct);

    public Task ApplyRoleAsync(V1Role role, CancellationToken ct) =>
        client.RbacAuthorizationV1.PatchNamespacedRoleAsync(Apply(role), role.Metadata.Name, role.Metadata.NamespaceProperty,
            fieldManager: FieldManager, force: true, cancellationToken: ct);

    public Task ApplyRoleBindingAsync(V1RoleBinding binding, CancellationToken ct) =>
        client.RbacAuthorizationV1.PatchNamespacedRoleBindingAsync(Apply(binding), binding.Metadata.Name, binding.Metadata.NamespaceProperty,
            fieldManager: FieldManager, force: true, cancellationToken: ct);

    public Task ApplyDeploymentAsync(V1Deployment deployment, CancellationToken ct) =>
        client.AppsV1.PatchNamespacedDeploymentAsync(Apply(deployment), deployment.Metadata.Name, deployment.Metadata.NamespaceProperty,
            fieldManager: FieldManager, force: true, cancellationToken: ct);

    private static V1Patch Apply(object o) => new(KubernetesJson.Serialize(o), V1Patch.PatchType.ApplyPatch);

    /// <summary>Deletes an object; one that is already gone counts as deleted.</summary>
    public static async Task DeleteIgnoringMissingAsync(Func<Task> delete)
    {
        try
        {
            await delete();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }
}
