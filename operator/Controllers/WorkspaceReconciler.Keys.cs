using Amphora.Operator.Api;
using Amphora.Operator.ControlPlane;
using Amphora.Operator.Kube;
using k8s;

namespace Amphora.Operator.Controllers;

// spec.accessKeys: one Amphora key and one Secret per entry; keys and Secrets no longer in the spec are deleted.
public sealed partial class WorkspaceReconciler
{
    public static string SecretName(V1Alpha1Workspace ws, AccessKeySpec key) => key.SecretName ?? $"{ws.Metadata.Name}-{key.Name}";

    private async Task<(string Reason, string Message)?> SyncKeysAsync(V1Alpha1Workspace ws, WorkspaceStatus status, WorkspaceEndpoints endpoints,
        long generation, CancellationToken ct)
    {
        string ns = ws.Metadata.NamespaceProperty;
        var existing = await amphora.ListKeysAsync(endpoints.WorkspaceId, ct);
        var result = new List<AccessKeyStatus>();
        var inUse = new HashSet<string>(StringComparer.Ordinal);
        var wantedSecrets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in ws.Spec.AccessKeys ?? [])
        {
            string secretName = SecretName(ws, key);
            wantedSecrets.Add(secretName);
            try
            {
                var (id, created) = await keys.EnsureAsync(ws, ws.Metadata.Name, endpoints, secretName, key.Actions, existing, ct);
                inUse.Add(id);
                result.Add(new AccessKeyStatus { Name = key.Name, AccessKeyId = id, SecretName = secretName, Actions = key.Actions });
                if (created) await events.NormalAsync(ws, "AccessKeyProvisioned", $"access key {key.Name} ({id}, {string.Join(",", key.Actions)}) in Secret {secretName}");
            }
            catch (ControlPlaneException e) when (e.IsValidation)
            {
                string message = $"spec.accessKeys[{key.Name}].actions: {e.Detail}";
                Conditions.Set(status, generation, Conditions.AccessKeysReady, false, "InvalidAccessKey", message);
                return ("InvalidAccessKey", message);
            }
        }
        // Secrets of keys removed from the spec, then keys no Secret holds (removed, replaced, or orphaned by a crash).
        var selector = OwnedObjects.SelectorForOwner(V1Alpha1Workspace.KindName, ws.Metadata.Name);
        foreach (var s in (await kube.Client.CoreV1.ListNamespacedSecretAsync(ns, labelSelector: selector, cancellationToken: ct)).Items)
        {
            if (wantedSecrets.Contains(s.Metadata.Name)) continue;
            await KubeOperations.DeleteIgnoringMissingAsync(() => kube.Client.CoreV1.DeleteNamespacedSecretAsync(s.Metadata.Name, ns, cancellationToken: ct));
            await events.NormalAsync(ws, "AccessKeyRemoved", $"deleted Secret {s.Metadata.Name}: its key is no longer in spec.accessKeys");
        }
        int orphans = await keys.DeleteOrphansAsync(ws, endpoints.WorkspaceId, existing, inUse, ct);
        if (orphans > 0) await events.NormalAsync(ws, "AccessKeysDeleted", $"deleted {orphans} access keys no Secret holds");
        status.AccessKeys = result;
        Conditions.Set(status, generation, Conditions.AccessKeysReady, true, "Provisioned", $"{result.Count} access keys provisioned as Secrets");
        return null;
    }
}
