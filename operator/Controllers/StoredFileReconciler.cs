using Amphora.Operator.Api;
using Amphora.Operator.ControlPlane;
using Amphora.Operator.Kube;
using Amphora.Operator.Validation;

namespace Amphora.Operator.Controllers;

/// <summary>
/// The shape RuleGroupsNamespace and AlertManagerDefinition share: a file validated, then stored in the referenced workspace
/// through the control plane, removed from it by the finalizer. An invalid file is a Valid=False condition naming the
/// line and waits for an edit (no retry can fix it); a missing workspace or a control plane without the API is retried
/// with backoff, which the controller records as events.
/// </summary>
public abstract class StoredFileReconciler<T>(KubeOperations kube, EventRecorder events, ResourceWatcher<V1Alpha1Workspace> workspaces)
    : IReconciler<T> where T : class, IWorkspaceDependent
{
    public abstract string Plural { get; }
    /// <summary>What the file is, for messages ("rule file").</summary>
    protected abstract string What { get; }
    protected abstract string Data(T resource);
    protected abstract ResourceStatus StatusOf(T resource);
    protected abstract Task<FileProblem?> ValidateAsync(string data, CancellationToken ct);
    protected abstract Task StoreAsync(string workspaceId, T resource, CancellationToken ct);
    protected abstract Task RemoveAsync(string workspaceId, T resource, CancellationToken ct);

    public async Task<ReconcileResult> ReconcileAsync(T resource, CancellationToken ct)
    {
        if (resource.Metadata.DeletionTimestamp is not null)
        {
            if (resource.Metadata.Finalizers?.Contains(AmphoraApi.Finalizer) != true) return ReconcileResult.Done;
            if (resource.BaseStatus?.WorkspaceId is { } stored)
            {
                await RemoveAsync(stored, resource, ct);
                await events.NormalAsync(resource, "Removed", $"removed the {What} from workspace {stored}");
            }
            await kube.SetFinalizerAsync(resource, Plural, present: false, ct);
            return ReconcileResult.Done;
        }
        if (Dependents.UpToDate(resource, workspaces)) return ReconcileResult.Done;
        long generation = resource.Metadata.Generation ?? 0;
        await kube.SetFinalizerAsync(resource, Plural, present: true, ct);
        var status = StatusOf(resource);

        var problem = await ValidateAsync(Data(resource), ct);
        if (problem is not null)
        {
            string message = $"spec.data: {problem}";
            Conditions.Set(status, generation, Conditions.Valid, false, "Invalid", message);
            Conditions.Set(status, generation, Conditions.Ready, false, "Invalid", message);
            status.ObservedGeneration = generation;
            await kube.PatchStatusAsync(resource, Plural, status, ct);
            await events.WarningAsync(resource, "Invalid", $"the {What} is invalid: {message}");
            return ReconcileResult.Done;
        }
        Conditions.Set(status, generation, Conditions.Valid, true, "Valid", $"the {What} is valid");

        var ws = Dependents.ReadyWorkspace(resource, status, workspaces);
        if (ws is null)
        {
            await kube.PatchStatusAsync(resource, Plural, status, ct);
            return ReconcileResult.RetryWithBackoff;
        }
        string workspaceId = ws.Status!.WorkspaceId!;
        try
        {
            await StoreAsync(workspaceId, resource, ct);
        }
        catch (ControlPlaneException e) when (e.IsUnsupported)
        {
            string message = $"the {What} is valid, but Amphora's control plane does not serve this API yet (answered {e.Status}); it is stored once it does";
            Conditions.Set(status, generation, Conditions.Stored, false, "NotSupportedByControlPlane", message);
            Conditions.Set(status, generation, Conditions.Ready, false, "NotSupportedByControlPlane", message);
            await kube.PatchStatusAsync(resource, Plural, status, ct);
            return ReconcileResult.RetryWithBackoff;
        }
        catch (ControlPlaneException e) when (e.IsValidation)
        {
            string message = $"spec.data: Amphora refused the {What}: {e.Detail}";
            Conditions.Set(status, generation, Conditions.Valid, false, "RejectedByAmphora", message);
            Conditions.Set(status, generation, Conditions.Ready, false, "RejectedByAmphora", message);
            status.ObservedGeneration = generation;
            await kube.PatchStatusAsync(resource, Plural, status, ct);
            await events.WarningAsync(resource, "Invalid", message);
            return ReconcileResult.Done;
        }
        Conditions.Set(status, generation, Conditions.Stored, true, "Stored", $"stored in workspace {workspaceId}");
        Conditions.Set(status, generation, Conditions.Ready, true, "Stored", $"the {What} is stored in workspace {workspaceId}");
        status.ObservedGeneration = generation;
        await kube.PatchStatusAsync(resource, Plural, status, ct);
        await events.NormalAsync(resource, "Stored", $"stored the {What} in workspace {workspaceId}");
        return ReconcileResult.Done;
    }
}

/// <summary>A RuleGroupsNamespace: the rule file checked by <see cref="RuleFileValidator"/>, stored as AMP's rule groups namespace.</summary>
public sealed class RuleGroupsNamespaceReconciler(ControlPlaneClient amphora, KubeOperations kube, EventRecorder events,
    ResourceWatcher<V1Alpha1Workspace> workspaces) : StoredFileReconciler<V1Alpha1RuleGroupsNamespace>(kube, events, workspaces)
{
    public override string Plural => V1Alpha1RuleGroupsNamespace.Plural;
    protected override string What => "rule file";
    protected override string Data(V1Alpha1RuleGroupsNamespace r) => r.Spec.Data;
    protected override ResourceStatus StatusOf(V1Alpha1RuleGroupsNamespace r) => r.Status ??= new ResourceStatus();
    protected override Task<FileProblem?> ValidateAsync(string data, CancellationToken ct) => Task.FromResult(RuleFileValidator.Validate(data));
    protected override Task StoreAsync(string workspaceId, V1Alpha1RuleGroupsNamespace r, CancellationToken ct) =>
        amphora.PutRuleGroupsNamespaceAsync(workspaceId, r.Metadata.Name, r.Spec.Data, ct);
    protected override Task RemoveAsync(string workspaceId, V1Alpha1RuleGroupsNamespace r, CancellationToken ct) =>
        amphora.DeleteRuleGroupsNamespaceAsync(workspaceId, r.Metadata.Name, ct);
}

/// <summary>An AlertManagerDefinition: checked by <see cref="AlertmanagerValidator"/>, stored as AMP's alert manager definition.</summary>
public sealed class AlertManagerDefinitionReconciler(ControlPlaneClient amphora, KubeOperations kube, EventRecorder events,
    ResourceWatcher<V1Alpha1Workspace> workspaces, AlertmanagerValidator validator)
    : StoredFileReconciler<V1Alpha1AlertManagerDefinition>(kube, events, workspaces)
{
    public override string Plural => V1Alpha1AlertManagerDefinition.Plural;
    protected override string What => "Alertmanager configuration";
    protected override string Data(V1Alpha1AlertManagerDefinition r) => r.Spec.Data;
    protected override ResourceStatus StatusOf(V1Alpha1AlertManagerDefinition r) => r.Status ??= new ResourceStatus();
    protected override Task<FileProblem?> ValidateAsync(string data, CancellationToken ct) => validator.ValidateAsync(data, ct);
    protected override Task StoreAsync(string workspaceId, V1Alpha1AlertManagerDefinition r, CancellationToken ct) =>
        amphora.PutAlertManagerDefinitionAsync(workspaceId, r.Spec.Data, ct);
    protected override Task RemoveAsync(string workspaceId, V1Alpha1AlertManagerDefinition r, CancellationToken ct) =>
        amphora.DeleteAlertManagerDefinitionAsync(workspaceId, ct);
}
