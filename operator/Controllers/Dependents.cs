using Amphora.Operator.Api;
using Amphora.Operator.Kube;

namespace Amphora.Operator.Controllers;

/// <summary>Finding the Workspace a RuleGroupsNamespace, AlertManagerDefinition or Scraper references.</summary>
public static class Dependents
{
    /// <summary>The referenced Workspace when it is Ready; otherwise sets WorkspaceReady and Ready false naming the field.</summary>
    public static V1Alpha1Workspace? ReadyWorkspace(IWorkspaceDependent resource, ResourceStatus status, ResourceWatcher<V1Alpha1Workspace> workspaces)
    {
        long generation = resource.Metadata.Generation ?? 0;
        string ns = resource.Metadata.NamespaceProperty;
        if (!workspaces.Cache.TryGetValue(ObjectKey.Of(ns, resource.WorkspaceName), out var ws) || ws.Metadata.DeletionTimestamp is not null)
        {
            string message = $"spec.workspaceRef.name: Workspace \"{resource.WorkspaceName}\" does not exist in namespace {ns}";
            Conditions.Set(status, generation, Conditions.WorkspaceReady, false, "WorkspaceNotFound", message);
            Conditions.Set(status, generation, Conditions.Ready, false, "WorkspaceNotFound", message);
            return null;
        }
        if (ws.Status?.WorkspaceId is null || ws.Status.StatusCode != "ACTIVE")
        {
            string message = $"Workspace \"{resource.WorkspaceName}\" is not provisioned yet ({ws.Status?.StatusCode ?? "no status"})";
            Conditions.Set(status, generation, Conditions.WorkspaceReady, false, "WorkspaceNotReady", message);
            Conditions.Set(status, generation, Conditions.Ready, false, "WorkspaceNotReady", message);
            return null;
        }
        status.WorkspaceId = ws.Status.WorkspaceId;
        Conditions.Set(status, generation, Conditions.WorkspaceReady, true, "WorkspaceReady", $"workspace {ws.Status.WorkspaceId}");
        return ws;
    }

    /// <summary>True when this generation was already reconciled successfully into the workspace that is still there.</summary>
    public static bool UpToDate(IWorkspaceDependent resource, ResourceWatcher<V1Alpha1Workspace> workspaces) =>
        resource.Metadata.DeletionTimestamp is null && resource.BaseStatus?.ObservedGeneration == (resource.Metadata.Generation ?? 0)
        && Conditions.IsTrue(resource.BaseStatus, Conditions.Ready)
        && workspaces.Cache.TryGetValue(ObjectKey.Of(resource.Metadata.NamespaceProperty, resource.WorkspaceName), out var ws)
        && ws.Metadata.DeletionTimestamp is null && ws.Status?.WorkspaceId == resource.BaseStatus.WorkspaceId;
}
