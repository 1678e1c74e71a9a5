namespace Amphora.Tenancy.Workspaces;

/// <summary>
/// What the rest of Amphora does when a workspace is created or deleted; the executable connects these to its components.
/// </summary>
public interface IWorkspaceLifecycleHooks
{
    /// <summary>Prepares a new workspace (status CREATING). When it returns the workspace becomes ACTIVE; when it throws,
    /// CREATION_FAILED.</summary>
    Task ProvisionAsync(WorkspaceRecord workspace, CancellationToken ct);

    /// <summary>Removes all data of a workspace (status DELETING), e.g. through the compactor's workspace deletion. When it
    /// returns the workspace is removed from the registry; when it throws, it stays DELETING and deletion can be retried.</summary>
    Task DeleteDataAsync(WorkspaceRecord workspace, CancellationToken ct);
}

/// <summary>Hooks that do nothing: provisioning is immediate and there is no data to remove.</summary>
public sealed class NoWorkspaceLifecycleHooks : IWorkspaceLifecycleHooks
{
    public static readonly NoWorkspaceLifecycleHooks Instance = new();
    public Task ProvisionAsync(WorkspaceRecord workspace, CancellationToken ct) => Task.CompletedTask;
    public Task DeleteDataAsync(WorkspaceRecord workspace, CancellationToken ct) => Task.CompletedTask;
}
