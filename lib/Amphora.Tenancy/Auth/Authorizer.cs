using Amphora.Tenancy.Keys;

namespace Amphora.Tenancy.Auth;

/// <summary>
/// Decides whether an authenticated key may perform the access a request requires: the key must hold the action and reach the
/// workspace; operations across workspaces (create, unknown routes) need a key that is not bound to one workspace.
/// </summary>
public static class Authorizer
{
    public static bool IsAllowed(AccessKeyInfo key, RequiredAccess access, out string reason)
    {
        if (access.Action is null)
        {
            if (!key.Actions.Contains(ApsActions.All))
            {
                reason = $"access key {key.AccessKeyId} may not call this operation (it needs {ApsActions.All})";
                return false;
            }
        }
        else if (!key.Allows(access.Action))
        {
            reason = $"access key {key.AccessKeyId} is not authorized to perform {access.Action}";
            return false;
        }
        if (access.NeedsAllWorkspaces && key.WorkspaceId is not null)
        {
            reason = $"access key {key.AccessKeyId} is bound to workspace {key.WorkspaceId} and may not perform {access.Action ?? "this operation"} across workspaces";
            return false;
        }
        if (access.Workspace is not null && !key.Reaches(access.Workspace))
        {
            reason = $"access key {key.AccessKeyId} is not authorized to perform {access.Action ?? "this operation"} on workspace {access.Workspace}";
            return false;
        }
        reason = "";
        return true;
    }
}
