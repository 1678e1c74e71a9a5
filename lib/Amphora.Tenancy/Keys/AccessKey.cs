namespace Amphora.Tenancy.Keys;

/// <summary>
/// An access key without its secret: what may be listed and logged. <see cref="WorkspaceId"/> null means the key is not bound
/// to one workspace (an admin key).
/// </summary>
public sealed record AccessKeyInfo
{
    public required string AccessKeyId { get; init; }
    public string? WorkspaceId { get; init; }
    public required IReadOnlyList<string> Actions { get; init; }
    public bool Enabled { get; init; } = true;
    public required DateTimeOffset CreatedAt { get; init; }
    public string? Description { get; init; }

    public bool Allows(string action) => ApsActions.AnyCovers(Actions, action);

    /// <summary>True when the key may act on <paramref name="workspaceId"/> (an admin key reaches every workspace).</summary>
    public bool Reaches(string workspaceId) => WorkspaceId is null || WorkspaceId == workspaceId;
}

/// <summary>A key as stored: its info and the secret sealed with AES-GCM under the master key.</summary>
internal sealed record StoredAccessKey
{
    public required AccessKeyInfo Key { get; init; }

    /// <summary>base64 of nonce (12) ‖ tag (16) ‖ ciphertext, with the key id as associated data.</summary>
    public required string SealedSecret { get; init; }
}

/// <summary>A newly created key and its secret, which is shown only this once.</summary>
public sealed record CreatedAccessKey(AccessKeyInfo Key, string SecretAccessKey);
