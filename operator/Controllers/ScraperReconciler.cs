using System.Security.Cryptography;
using System.Text;
using Amphora.Operator.Api;
using Amphora.Operator.ControlPlane;
using Amphora.Operator.Kube;
using Amphora.Operator.Validation;

namespace Amphora.Operator.Controllers;

/// <summary>
/// Reconciles a Scraper into a collector: a write key (aps:RemoteWrite) in a Secret, a ConfigMap with the prometheus.yml
/// <see cref="ScrapeConfigBuilder"/> makes, a ServiceAccount with a Role for Kubernetes service discovery, and a Deployment
/// running Prometheus in agent mode, all applied server-side under the operator's field manager. The finalizer deletes
/// them and the key.
/// </summary>
public sealed partial class ScraperReconciler(ControlPlaneClient amphora, KubeOperations kube, KeySecrets keys, EventRecorder events,
    OperatorOptions options, ResourceWatcher<V1Alpha1Workspace> workspaces) : IReconciler<V1Alpha1Scraper>
{
    public string Plural => V1Alpha1Scraper.Plural;

    public async Task<ReconcileResult> ReconcileAsync(V1Alpha1Scraper scraper, CancellationToken ct)
    {
        if (scraper.Metadata.DeletionTimestamp is not null) return await FinalizeAsync(scraper, ct);
        if (Dependents.UpToDate(scraper, workspaces)) return ReconcileResult.Done;
        long generation = scraper.Metadata.Generation ?? 0;
        await kube.SetFinalizerAsync(scraper, Plural, present: true, ct);
        var status = scraper.Status ??= new ScraperStatus();

        var ws = Dependents.ReadyWorkspace(scraper, status, workspaces);
        if (ws is null)
        {
            await kube.PatchStatusAsync(scraper, Plural, status, ct);
            return ReconcileResult.RetryWithBackoff;
        }
        var endpoints = ws.Status!.RemoteWriteUrl is { } remoteWrite
            ? new WorkspaceEndpoints(ws.Status.WorkspaceId!, ws.Status.PrometheusEndpoint!, remoteWrite)
            : WorkspaceEndpoints.For(ws.Status.WorkspaceId!, ws.Status.PrometheusEndpoint!, null);
        var (config, problem) = ScrapeConfigBuilder.Build(scraper.Spec.ScrapeConfig, endpoints.RemoteWriteUrl, scraper.Spec.ScrapeInterval ?? "30s");
        if (problem is not null)
        {
            string message = $"spec.scrapeConfig: {problem}";
            Conditions.Set(status, generation, Conditions.Valid, false, "InvalidScrapeConfig", message);
            Conditions.Set(status, generation, Conditions.Ready, false, "InvalidScrapeConfig", message);
            status.ObservedGeneration = generation;
            await kube.PatchStatusAsync(scraper, Plural, status, ct);
            await events.WarningAsync(scraper, "InvalidScrapeConfig", message);
            return ReconcileResult.Done;
        }
        Conditions.Set(status, generation, Conditions.Valid, true, "Valid", "the scrape configuration is valid");

        string name = scraper.Metadata.Name;
        status.SecretName = $"{name}-remote-write";
        var existing = await amphora.ListKeysAsync(endpoints.WorkspaceId, ct);
        var (keyId, created) = await keys.EnsureAsync(scraper, ws.Metadata.Name, endpoints, status.SecretName, ["aps:RemoteWrite"], existing, ct);
        if (created) await events.NormalAsync(scraper, "AccessKeyProvisioned", $"write key {keyId} in Secret {status.SecretName}");
        await keys.DeleteOrphansAsync(scraper, endpoints.WorkspaceId, existing, new HashSet<string> { keyId }, ct);
        status.AccessKeyId = keyId;

        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(config! + keyId)))[..16].ToLowerInvariant();
        await ApplyCollectorAsync(scraper, ws.Metadata.Name, config!, hash, status, ct);
        Conditions.Set(status, generation, Conditions.CollectorReady, true, "Applied",
            $"Deployment {status.DeploymentName} runs Prometheus in agent mode with ConfigMap {status.ConfigMapName}");
        Conditions.Set(status, generation, Conditions.Ready, true, "Applied", $"the collector writes into workspace {endpoints.WorkspaceId}");
        status.ObservedGeneration = generation;
        await kube.PatchStatusAsync(scraper, Plural, status, ct);
        await events.NormalAsync(scraper, "CollectorApplied", $"applied ConfigMap {status.ConfigMapName} and Deployment {status.DeploymentName} (config {hash})");
        return ReconcileResult.Done;
    }

    private async Task<ReconcileResult> FinalizeAsync(V1Alpha1Scraper scraper, CancellationToken ct)
    {
        if (scraper.Metadata.Finalizers?.Contains(AmphoraApi.Finalizer) != true) return ReconcileResult.Done;
        if (scraper.Status is { WorkspaceId: { } wsId, AccessKeyId: { } keyId })
        {
            try
            {
                await amphora.DeleteKeyAsync(wsId, keyId, ct);
            }
            catch (ControlPlaneException e) when (e.Status == 404)
            {
                // The workspace went first (its keys with it).
            }
        }
        int n = await OwnedObjects.DeleteAsync(kube.Client, scraper.Metadata.NamespaceProperty,
            OwnedObjects.SelectorForOwner(V1Alpha1Scraper.KindName, scraper.Metadata.Name), ct);
        await events.NormalAsync(scraper, "CollectorDeleted", $"deleted the collector's {n} objects and its write key");
        await kube.SetFinalizerAsync(scraper, Plural, present: false, ct);
        return ReconcileResult.Done;
    }
}
