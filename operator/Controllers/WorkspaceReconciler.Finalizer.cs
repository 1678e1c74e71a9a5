using Amphora.Operator.Api;
using Amphora.Operator.Kube;

namespace Amphora.Operator.Controllers;

// Deleting a Workspace: the Amphora workspace (and with it its data and keys), then every Secret and collector object made
// for it or for the Scrapers that write into it, then the finalizer.
public sealed partial class WorkspaceReconciler
{
    private async Task<ReconcileResult> FinalizeAsync(V1Alpha1Workspace ws, CancellationToken ct)
    {
        if (ws.Metadata.Finalizers?.Contains(AmphoraApi.Finalizer) != true) return ReconcileResult.Done;
        string ns = ws.Metadata.NamespaceProperty;
        string? id = ws.Status?.WorkspaceId ?? AmphoraApi.Annotation(ws.Metadata, AmphoraApi.WorkspaceIdAnnotation);
        if (id is not null)
        {
            await amphora.DeleteWorkspaceAsync(id, ct);
            await events.NormalAsync(ws, "WorkspaceDeleted", $"deleted workspace {id} and its data in Amphora");
        }
        int removed = await OwnedObjects.DeleteAsync(kube.Client, ns, OwnedObjects.SelectorForWorkspace(ws.Metadata.Name), ct);
        await events.NormalAsync(ws, "CleanedUp", $"deleted {removed} Secrets and collector objects of workspace {ws.Metadata.Name}");
        await kube.SetFinalizerAsync(ws, Plural, present: false, ct);
        workspaceChanged(ns, ws.Metadata.Name);
        return ReconcileResult.Done;
    }
}
