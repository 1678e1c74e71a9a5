using Amphora.Tenancy.Keys;

namespace Amphora.Server.Config;

/// <summary>
/// What <c>--check-config</c> checks beyond <see cref="AmphoraConfig.Validate"/>: the key files this process reads when it
/// starts hold what it would accept (a master key, an admin key), so a mounted Secret in the wrong format is found before
/// a pod starts rather than in its crash loop. A master key file that does not exist yet is fine: the first start writes one.
/// </summary>
public static class ConfigFileCheck
{
    public static List<string> Run(AmphoraConfig config)
    {
        var errors = new List<string>();
        if (config.MasterKeyFile is { } masterKey && File.Exists(masterKey))
            Check(errors, "--auth.master-key-file", () => MasterKey.Load(masterKey, createIfMissing: false).Dispose());
        if (config.AdminKeyFile is { } adminKey)
            Check(errors, "--auth.admin-key-file", () => AdminKeyFile.Load(adminKey, DateTimeOffset.UtcNow));
        if (config.Target == "operator" && File.Exists(config.OperatorAdminKeyFile))
            Check(errors, "--operator.admin-key-file", () => Amphora.Operator.ControlPlane.ControlPlaneClient.ReadCredentials(config.OperatorAdminKeyFile));
        return errors;
    }

    private static void Check(List<string> errors, string flag, Action load)
    {
        try
        {
            load();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException
                                      or System.Text.Json.JsonException)
        {
            errors.Add($"{flag}: {e.Message}");
        }
    }
}
