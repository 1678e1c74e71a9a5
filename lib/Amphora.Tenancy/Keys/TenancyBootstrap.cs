using System.Text.Json;
using Amphora.Tenancy.Workspaces;

namespace Amphora.Tenancy.Keys;

/// <summary>What the first start created: the <c>default</c> workspace and an admin key (secret shown once).</summary>
public sealed record BootstrapCredentials(string WorkspaceId, string AccessKeyId, string SecretAccessKey, string CredentialsFile);

/// <summary>
/// First start in <c>--auth=keys</c> mode: when the shared tenancy state holds no access key yet, creates workspace
/// <c>default</c> (if missing) and an admin key holding <c>aps:*</c> on every workspace, and writes both to
/// <c>bootstrap-credentials.json</c> (mode 0600) in the data directory. Later starts, and the other components of a cluster
/// once one of them has done it, find a key and do nothing (components starting at the same moment may each make one).
/// </summary>
public static class TenancyBootstrap
{
    public const string DefaultWorkspaceId = "default";
    public const string CredentialsFileName = "bootstrap-credentials.json";

    public static async Task<BootstrapCredentials?> EnsureAsync(TenancyOptions options, WorkspaceRegistry registry, KeyStore keys, CancellationToken ct = default)
    {
        if (keys.Count > 0) return null;
        if (registry.Find(DefaultWorkspaceId) is null)
        {
            try
            {
                await registry.CreateAsync("default", null, null, DefaultWorkspaceId, ct).ConfigureAwait(false);
            }
            catch (TenancyException e) when (e.Kind == TenancyErrorKind.Conflict)
            {
                // Another component of the cluster, starting at the same time, created it first.
            }
        }
        var admin = await keys.CreateAsync(null, [ApsActions.All], "bootstrap admin key", ct).ConfigureAwait(false);
        string path = Path.Combine(options.DataDir, CredentialsFileName);
        var body = new Dictionary<string, string>
        {
            ["workspaceId"] = DefaultWorkspaceId,
            ["accessKeyId"] = admin.Key.AccessKeyId,
            ["secretAccessKey"] = admin.SecretAccessKey,
        };
        AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(body, new JsonSerializerOptions { WriteIndented = true }), ownerOnly: true);
        return new BootstrapCredentials(DefaultWorkspaceId, admin.Key.AccessKeyId, admin.SecretAccessKey, path);
    }
}
