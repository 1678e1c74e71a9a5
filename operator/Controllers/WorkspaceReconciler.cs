using Amphora.Operator.Api;
using Amphora.Operator.ControlPlane;
using Amphora.Operator.Kube;

namespace Amphora.Operator.Controllers;

/// <summary>
/// Reconciles a Workspace into an Amphora workspace: created once (the resource's uid is the client token, so a retry or
/// a restart between the create and recording its id returns the same workspace), its id kept in status and in an
/// annotation, alias, tags and configuration brought to the spec, and one Secret per access key. Skipped when the
/// generation was already reconciled and is Ready. Deletion runs <see cref="FinalizeAsync"/>.
/// </summary>
public sealed partial class WorkspaceReconciler(ControlPlaneClient amphora, KubeOperations kube, KeySecrets keys, EventRecorder events,
    OperatorOptions options, Action<string, string> workspaceChanged) : IReconciler<V1Alpha1Workspace>
{
    public string Plural => V1Alpha1Workspace.Plural;

    public async Task<ReconcileResult> ReconcileAsync(V1Alpha1Workspace ws, CancellationToken ct)
    {
        if (ws.Metadata.DeletionTimestamp is not null) return await FinalizeAsync(ws, ct);
        long generation = ws.Metadata.Generation ?? 0;
        if (ws.Status?.ObservedGeneration == generation && Conditions.IsTrue(ws.Status, Conditions.Ready)) return ReconcileResult.Done;

        await kube.SetFinalizerAsync(ws, Plural, present: true, ct);
        var status = ws.Status ?? new WorkspaceStatus();
        ws.Status = status;

        var described = await EnsureWorkspaceAsync(ws, status, ct);
        status.WorkspaceId = described.WorkspaceId;
        status.Arn = described.Arn;
        status.StatusCode = described.Status.StatusCode;
        if (described.Status.StatusCode is "CREATING" or "UPDATING")
        {
            Conditions.Set(status, generation, Conditions.Ready, false, "Provisioning", $"the workspace {described.WorkspaceId} is {described.Status.StatusCode}");
            await kube.PatchStatusAsync(ws, Plural, status, ct);
            return ReconcileResult.After(TimeSpan.FromSeconds(1));
        }
        if (described.Status.StatusCode != "ACTIVE")
        {
            Conditions.Set(status, generation, Conditions.WorkspaceSynced, false, "WorkspaceNotActive",
                $"the workspace {described.WorkspaceId} is {described.Status.StatusCode} in Amphora");
            Conditions.Set(status, generation, Conditions.Ready, false, "WorkspaceNotActive", $"the workspace {described.WorkspaceId} is {described.Status.StatusCode}");
            await kube.PatchStatusAsync(ws, Plural, status, ct);
            return ReconcileResult.RetryWithBackoff;
        }

        var endpoints = Endpoints(described);
        status.PrometheusEndpoint = endpoints.PrometheusEndpoint;
        status.RemoteWriteUrl = endpoints.RemoteWriteUrl;
        status.QueryUrl = endpoints.QueryUrl;

        await SyncAliasAndTagsAsync(ws, described, ct);
        Conditions.Set(status, generation, Conditions.WorkspaceSynced, true, "Synced", $"alias and tags of {described.WorkspaceId} match the spec");

        var problem = await SyncConfigurationAsync(ws, status, described.WorkspaceId, generation, ct);
        if (problem is null) problem = await SyncKeysAsync(ws, status, endpoints, generation, ct);
        if (problem is null)
            Conditions.Set(status, generation, Conditions.LimitsApplied, true, "Applied", LimitsSummary(ws.Spec.Limits));

        if (problem is not null)
        {
            Conditions.Set(status, generation, Conditions.Ready, false, problem.Value.Reason, problem.Value.Message);
            await kube.PatchStatusAsync(ws, Plural, status, ct);
            return ReconcileResult.RetryWithBackoff;
        }
        Conditions.Set(status, generation, Conditions.Ready, true, "Reconciled", $"workspace {described.WorkspaceId} is ACTIVE and matches the spec");
        status.ObservedGeneration = generation;
        await kube.PatchStatusAsync(ws, Plural, status, ct);
        await events.NormalAsync(ws, "Reconciled", $"workspace {described.WorkspaceId} matches generation {generation}");
        workspaceChanged(ws.Metadata.NamespaceProperty, ws.Metadata.Name);
        return ReconcileResult.Done;
    }

    private WorkspaceEndpoints Endpoints(WorkspaceDescription ws)
    {
        string endpoint = options.PublicUrl is { } pub
            ? $"{pub.ToString().TrimEnd('/')}/workspaces/{ws.WorkspaceId}/"
            : ws.PrometheusEndpoint ?? $"{options.AmphoraUrl.ToString().TrimEnd('/')}/workspaces/{ws.WorkspaceId}/";
        if (!endpoint.EndsWith('/')) endpoint += "/";
        return WorkspaceEndpoints.For(ws.WorkspaceId, endpoint, options.RemoteWriteUrl);
    }

    /// <summary>The recorded workspace, or a new one created with the resource's uid as client token.</summary>
    private async Task<WorkspaceDescription> EnsureWorkspaceAsync(V1Alpha1Workspace ws, WorkspaceStatus status, CancellationToken ct)
    {
        string? id = status.WorkspaceId ?? AmphoraApi.Annotation(ws.Metadata, AmphoraApi.WorkspaceIdAnnotation);
        if (id is not null)
        {
            try
            {
                var found = await amphora.DescribeWorkspaceAsync(id, ct);
                await kube.SetAnnotationAsync(ws, Plural, AmphoraApi.WorkspaceIdAnnotation, id, ct);
                return found;
            }
            catch (ControlPlaneException e) when (e.IsNotFound)
            {
                await events.WarningAsync(ws, "WorkspaceMissing", $"the workspace {id} recorded for this resource no longer exists in Amphora; creating it again");
            }
        }
        // No alias or tags at creation: a retry with the same token must match the first call whatever the spec says now.
        var created = await amphora.CreateWorkspaceAsync(ws.Metadata.Uid, ct);
        await kube.SetAnnotationAsync(ws, Plural, AmphoraApi.WorkspaceIdAnnotation, created.WorkspaceId, ct);
        status.WorkspaceId = created.WorkspaceId;
        status.StatusCode = created.Status.StatusCode;
        await kube.PatchStatusAsync(ws, Plural, status, ct);
        if (created.WorkspaceId != id)
            await events.NormalAsync(ws, "WorkspaceCreated", $"created workspace {created.WorkspaceId} in Amphora");
        return await amphora.DescribeWorkspaceAsync(created.WorkspaceId, ct);
    }

    private async Task SyncAliasAndTagsAsync(V1Alpha1Workspace ws, WorkspaceDescription described, CancellationToken ct)
    {
        string alias = ws.Spec.Alias ?? $"{ws.Metadata.NamespaceProperty}/{ws.Metadata.Name}";
        if (alias.Length > 100) alias = alias[..100];
        if (described.Alias != alias) await amphora.UpdateAliasAsync(described.WorkspaceId, alias, ct);
        var want = ws.Spec.Tags ?? [];
        var remove = described.Tags.Keys.Where(k => !want.ContainsKey(k)).ToList();
        if (remove.Count > 0) await amphora.UntagAsync(described.Arn, remove, ct);
        if (want.Any(t => !described.Tags.TryGetValue(t.Key, out var v) || v != t.Value)) await amphora.TagAsync(described.Arn, want, ct);
    }

    private static string LimitsSummary(WorkspaceLimits? limits)
    {
        var set = new List<string>();
        if (limits?.IngestionRate is { } rate) set.Add($"ingestionRate {rate}");
        if (limits?.IngestionBurstSize is { } burst) set.Add($"ingestionBurstSize {burst}");
        if (limits?.MaxSeries is { } series) set.Add($"maxSeries {series}");
        if (limits?.MaxSeriesPerMetric is { } perMetric) set.Add($"maxSeriesPerMetric {perMetric}");
        return set.Count == 0 ? "the service's default limits apply" : $"applied: {string.Join(", ", set)} (the rest are the service's defaults)";
    }
}
