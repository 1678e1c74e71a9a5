using System.Text;
using Amphora.Operator.Api;
using Amphora.Operator.ControlPlane;
using Amphora.Operator.Kube;
using k8s.Models;

namespace Amphora.Operator.Controllers;

/// <summary>
/// The URLs of a workspace that clients are given: its Prometheus endpoint (queries, Grafana) and its remote-write URL, on
/// the same base unless writes go to other hosts (the distributors; <c>--operator.remote-write-url</c>).
/// </summary>
public sealed record WorkspaceEndpoints(string WorkspaceId, string PrometheusEndpoint, string RemoteWriteUrl)
{
    public string QueryUrl => PrometheusEndpoint + "api/v1/query";

    /// <summary>The endpoints of <paramref name="workspaceId"/>; <paramref name="remoteWriteBase"/> null: remote write beside the queries.</summary>
    public static WorkspaceEndpoints For(string workspaceId, string prometheusEndpoint, Uri? remoteWriteBase) =>
        new(workspaceId, prometheusEndpoint, remoteWriteBase is null
            ? prometheusEndpoint + "api/v1/remote_write"
            : $"{remoteWriteBase.ToString().TrimEnd('/')}/workspaces/{workspaceId}/api/v1/remote_write");
}

/// <summary>
/// Provisions an Amphora access key as a Secret. The Secret is the only place the secret exists (Amphora returns it once),
/// so it is the source of truth: a Secret whose recorded key still exists with the wanted actions is kept; otherwise a new
/// key is created, the Secret applied, and the key it replaced deleted. Keys the operator created but whose Secret was never
/// written (a crash in between) carry the owner's description and are deleted by <see cref="DeleteOrphansAsync"/>.
/// </summary>
public sealed class KeySecrets(ControlPlaneClient amphora, KubeOperations kube)
{
    public const string DescriptionPrefix = "amphora-operator ";

    /// <summary>The description every key made for this owner carries.</summary>
    public static string Description(IAmphoraResource owner) =>
        $"{DescriptionPrefix}{owner.Kind} {owner.Metadata.NamespaceProperty}/{owner.Metadata.Name} uid={owner.Metadata.Uid}";

    /// <summary>Makes sure the Secret holds a live key with <paramref name="actions"/>; returns the key id and whether a key was created.</summary>
    public async Task<(string KeyId, bool Created)> EnsureAsync(IAmphoraResource owner, string workspaceName, WorkspaceEndpoints endpoints,
        string secretName, IReadOnlyList<string> actions, IReadOnlyList<AccessKeyBody> existingKeys, CancellationToken ct)
    {
        string ns = owner.Metadata.NamespaceProperty;
        var secret = await kube.GetSecretAsync(ns, secretName, ct);
        string? recordedId = AmphoraApi.Annotation(secret?.Metadata, AmphoraApi.AccessKeyIdAnnotation);
        var live = recordedId is null ? null : existingKeys.FirstOrDefault(k => k.AccessKeyId == recordedId);
        if (live is not null && live.Enabled && SameActions(live.Actions, actions)
            && secret!.Data?.TryGetValue("secretAccessKey", out var existingSecret) == true)
        {
            await ApplyAsync(owner, workspaceName, endpoints, secretName, live.AccessKeyId, Encoding.UTF8.GetString(existingSecret), ct);
            return (live.AccessKeyId, false);
        }
        var created = await amphora.CreateKeyAsync(endpoints.WorkspaceId, actions, Description(owner), ct);
        await ApplyAsync(owner, workspaceName, endpoints, secretName, created.AccessKeyId, created.SecretAccessKey!, ct);
        if (recordedId is not null) await amphora.DeleteKeyAsync(endpoints.WorkspaceId, recordedId, ct);
        return (created.AccessKeyId, true);
    }

    /// <summary>Deletes this owner's keys in the workspace that no Secret of <paramref name="inUse"/> holds.</summary>
    public async Task<int> DeleteOrphansAsync(IAmphoraResource owner, string workspaceId, IReadOnlyList<AccessKeyBody> keys,
        IReadOnlySet<string> inUse, CancellationToken ct)
    {
        string description = Description(owner);
        int n = 0;
        foreach (var k in keys)
        {
            if (k.Description != description || inUse.Contains(k.AccessKeyId)) continue;
            await amphora.DeleteKeyAsync(workspaceId, k.AccessKeyId, ct);
            n++;
        }
        return n;
    }

    private static bool SameActions(IReadOnlyList<string> a, IReadOnlyList<string> b) =>
        a.Count == b.Count && a.All(x => b.Contains(x, StringComparer.OrdinalIgnoreCase));

    private Task ApplyAsync(IAmphoraResource owner, string workspaceName, WorkspaceEndpoints endpoints, string secretName,
        string keyId, string secretValue, CancellationToken ct)
    {
        var data = new Dictionary<string, byte[]>
        {
            ["accessKeyId"] = Encoding.UTF8.GetBytes(keyId),
            ["secretAccessKey"] = Encoding.UTF8.GetBytes(secretValue),
            // Prometheus basic_auth (username + password_file) and authorization (credentials_file) read these.
            ["username"] = Encoding.UTF8.GetBytes(keyId),
            ["password"] = Encoding.UTF8.GetBytes(secretValue),
            ["bearerToken"] = Encoding.UTF8.GetBytes($"{keyId}:{secretValue}"),
            ["workspaceId"] = Encoding.UTF8.GetBytes(endpoints.WorkspaceId),
            ["prometheusEndpoint"] = Encoding.UTF8.GetBytes(endpoints.PrometheusEndpoint),
            ["remoteWriteURL"] = Encoding.UTF8.GetBytes(endpoints.RemoteWriteUrl),
            ["queryURL"] = Encoding.UTF8.GetBytes(endpoints.QueryUrl),
        };
        var secret = new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Metadata = new V1ObjectMeta
            {
                Name = secretName,
                NamespaceProperty = owner.Metadata.NamespaceProperty,
                Labels = OwnedObjects.Labels(workspaceName, owner.Kind, owner.Metadata.Name),
                Annotations = new Dictionary<string, string> { [AmphoraApi.AccessKeyIdAnnotation] = keyId },
                OwnerReferences = [OwnedObjects.OwnerReference(owner)],
            },
            Type = "Opaque",
            Data = data,
        };
        return kube.ApplySecretAsync(secret, ct);
    }
}
