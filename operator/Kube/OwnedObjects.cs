using Amphora.Operator.Api;
using k8s;
using k8s.Models;

namespace Amphora.Operator.Kube;

/// <summary>
/// The objects the operator creates carry labels naming their owner and workspace; this finds and deletes them by those
/// labels. The API server the operator runs against may have no garbage collector (and ownerReferences never cross a
/// namespace), so cleanup is explicit.
/// </summary>
public static class OwnedObjects
{
    public static Dictionary<string, string> Labels(string workspace, string ownerKind, string ownerName) => new()
    {
        [AmphoraApi.ManagedByLabel] = AmphoraApi.ManagedBy,
        [AmphoraApi.WorkspaceLabel] = workspace,
        [AmphoraApi.OwnerKindLabel] = ownerKind,
        [AmphoraApi.OwnerNameLabel] = ownerName,
    };

    public static string SelectorForWorkspace(string workspace) =>
        $"{AmphoraApi.ManagedByLabel}={AmphoraApi.ManagedBy},{AmphoraApi.WorkspaceLabel}={workspace}";

    public static string SelectorForOwner(string ownerKind, string ownerName) =>
        $"{AmphoraApi.ManagedByLabel}={AmphoraApi.ManagedBy},{AmphoraApi.OwnerKindLabel}={ownerKind},{AmphoraApi.OwnerNameLabel}={ownerName}";

    public static V1OwnerReference OwnerReference(IAmphoraResource owner) => new()
    {
        ApiVersion = owner.ApiVersion,
        Kind = owner.Kind,
        Name = owner.Metadata.Name,
        Uid = owner.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = false,
    };

    /// <summary>Deletes every Deployment, ConfigMap, Secret, RoleBinding, Role and ServiceAccount matching the selector; returns how many.</summary>
    public static async Task<int> DeleteAsync(IKubernetes client, string ns, string selector, CancellationToken ct)
    {
        int n = 0;
        foreach (var d in (await client.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: selector, cancellationToken: ct)).Items)
        {
            await KubeOperations.DeleteIgnoringMissingAsync(() => client.AppsV1.DeleteNamespacedDeploymentAsync(d.Metadata.Name, ns, cancellationToken: ct));
            n++;
        }
        foreach (var c in (await client.CoreV1.ListNamespacedConfigMapAsync(ns, labelSelector: selector, cancellationToken: ct)).Items)
        {
            await KubeOperations.DeleteIgnoringMissingAsync(() => client.CoreV1.DeleteNamespacedConfigMapAsync(c.Metadata.Name, ns, cancellationToken: ct));
            n++;
        }
        foreach (var s in (await client.CoreV1.ListNamespacedSecretAsync(ns, labelSelector: selector, cancellationToken: ct)).Items)
        {
            await KubeOperations.DeleteIgnoringMissingAsync(() => client.CoreV1.DeleteNamespacedSecretAsync(s.Metadata.Name, ns, cancellationToken: ct));
            n++;
        }
        foreach (var b in (await client.RbacAuthorizationV1.ListNamespacedRoleBindingAsync(ns, labelSelector: selector, cancellationToken: ct)).Items)
        {
            await KubeOperations.DeleteIgnoringMissingAsync(() => client.RbacAuthorizationV1.DeleteNamespacedRoleBindingAsync(b.Metadata.Name, ns, cancellationToken: ct));
            n++;
        }
        foreach (var r in (await client.RbacAuthorizationV1.ListNamespacedRoleAsync(ns, labelSelector: selector, cancellationToken: ct)).Items)
        {
            await KubeOperations.DeleteIgnoringMissingAsync(() => client.RbacAuthorizationV1.DeleteNamespacedRoleAsync(r.Metadata.Name, ns, cancellationToken: ct));
            n++;
        }
        foreach (var a in (await client.CoreV1.ListNamespacedServiceAccountAsync(ns, labelSelector: selector, cancellationToken: ct)).Items)
        {
            await KubeOperations.DeleteIgnoringMissingAsync(() => client.CoreV1.DeleteNamespacedServiceAccountAsync(a.Metadata.Name, ns, cancellationToken: ct));
            n++;
        }
        return n;
    }
}
