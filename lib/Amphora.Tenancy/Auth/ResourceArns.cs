namespace Amphora.Tenancy.Auth;

/// <summary>The workspace an AMP resource ARN belongs to: <c>…:workspace/&lt;id&gt;</c> or
/// <c>…:rulegroupsnamespace/&lt;id&gt;/&lt;name&gt;</c>.</summary>
public static class ResourceArns
{
    private const string WorkspaceMarker = ":workspace/";
    private const string NamespaceMarker = ":rulegroupsnamespace/";

    /// <summary>The workspace id in <paramref name="arn"/>, or null when it names no workspace resource.</summary>
    public static string? Workspace(string arn)
    {
        int at = arn.LastIndexOf(WorkspaceMarker, StringComparison.Ordinal);
        if (at >= 0) return arn[(at + WorkspaceMarker.Length)..];
        return TryNamespace(arn, out string ws, out _) ? ws : null;
    }

    /// <summary>True when <paramref name="arn"/> names a rule groups namespace, with its workspace and name.</summary>
    public static bool TryNamespace(string arn, out string workspaceId, out string name)
    {
        workspaceId = name = "";
        int at = arn.LastIndexOf(NamespaceMarker, StringComparison.Ordinal);
        if (at < 0) return false;
        string rest = arn[(at + NamespaceMarker.Length)..];
        int slash = rest.IndexOf('/');
        if (slash <= 0 || slash == rest.Length - 1) return false;
        workspaceId = rest[..slash];
        name = rest[(slash + 1)..];
        return true;
    }
}
