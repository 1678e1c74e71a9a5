using System.Text;
using System.Text.Json;

namespace Amphora.Tenancy.Keys;

/// <summary>
/// The admin credential given to every component by a file (<c>--auth.admin-key-file</c>, e.g. a mounted Kubernetes Secret),
/// for automation such as the operator. The file is JSON (hence also YAML):
/// <c>{"accessKeyId": "ID", "secretAccessKey": "SECRET"}</c> — the field names of <c>bootstrap-credentials.json</c> and of
/// the CreateAccessKey response; other fields are ignored. The id is 1–32 ASCII letters or digits, the secret 20–128
/// printable ASCII characters without spaces. The key holds <c>aps:*</c> on every workspace; it lives only in the file, so
/// it is never listed and cannot be disabled or deleted through the API (change or remove the file instead).
/// </summary>
public sealed class AdminKeyFile
{
    public const string Description = "admin key from --auth.admin-key-file";

    private AdminKeyFile(AccessKeyInfo key, byte[] secret, FileStamp? stamp)
    {
        Key = key;
        Secret = secret;
        Stamp = stamp;
    }

    public AccessKeyInfo Key { get; }

    /// <summary>The secret as UTF-8; shared, callers must not modify it.</summary>
    internal byte[] Secret { get; }

    internal FileStamp? Stamp { get; }

    /// <summary>Reads and checks the file; throws <see cref="InvalidDataException"/> naming the file and what is wrong.</summary>
    public static AdminKeyFile Load(string path, DateTimeOffset now)
    {
        var stamp = FileStamp.Of(path) ?? throw new InvalidDataException($"the admin key file {path} (--auth.admin-key-file) does not exist");
        Fields? fields;
        try
        {
            fields = JsonSerializer.Deserialize<Fields>(File.ReadAllBytes(path), Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the admin key file {path} must be JSON {{\"accessKeyId\": ..., \"secretAccessKey\": ...}}: {e.Message}");
        }
        string id = fields?.AccessKeyId ?? "";
        string secret = fields?.SecretAccessKey ?? "";
        if (id.Length is 0 or > 32 || !id.All(char.IsAsciiLetterOrDigit))
            throw new InvalidDataException($"the admin key file {path}: accessKeyId must be 1 to 32 ASCII letters or digits");
        if (secret.Length is < 20 or > 128 || !secret.All(c => c is > ' ' and <= '~'))
            throw new InvalidDataException($"the admin key file {path}: secretAccessKey must be 20 to 128 printable ASCII characters without spaces");
        var key = new AccessKeyInfo
        {
            AccessKeyId = id,
            WorkspaceId = null,
            Actions = [ApsActions.All],
            CreatedAt = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds()),
            Description = Description,
        };
        return new AdminKeyFile(key, Encoding.UTF8.GetBytes(secret), stamp);
    }

    /// <summary>True when the file on disk differs from the one this was read from.</summary>
    internal bool Changed(string path) => FileStamp.Of(path) != Stamp;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private sealed record Fields(string? AccessKeyId, string? SecretAccessKey);
}
