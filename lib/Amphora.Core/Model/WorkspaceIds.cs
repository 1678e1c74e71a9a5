using System.Globalization;
using System.Text;

namespace Amphora.Model;

/// <summary>Which rule a workspace id broke.</summary>
public enum WorkspaceIdRule
{
    /// <summary>Empty, or longer than <see cref="WorkspaceIds.MaxLength"/> characters.</summary>
    Length,
    /// <summary>A character other than ASCII letters, digits, '-', '_' and '.' (so never '/', '\', NUL or a control character).</summary>
    Character,
    /// <summary>"." or "..", which name a directory relative to another.</summary>
    DotName,
    /// <summary>A name the bucket uses for state that is not a workspace's (<see cref="WorkspaceIds.Reserved"/>).</summary>
    Reserved,
}

/// <summary>Why a workspace id was refused: the rule, and a message that names it and the id (escaped, truncated).</summary>
public sealed record WorkspaceIdError(WorkspaceIdRule Rule, string Message);

/// <summary>A workspace id that is not one; thrown where an id is about to become a path or an object key.</summary>
public sealed class InvalidWorkspaceIdException(WorkspaceIdError error) : ArgumentException(error.Message)
{
    public WorkspaceIdError Error { get; } = error;
}

/// <summary>
/// The one rule for workspace ids, checked at every boundary (HTTP routes and <c>X-Scope-OrgID</c>, gRPC requests, bucket keys,
/// directories): 1 to 150 characters (Mimir's bound) of ASCII letters, digits, '-', '_' and '.', but not "." or "..". That is the
/// part of Mimir's tenant-id alphabet that needs no escaping in a URL path, a file name or an S3 key, and it holds AMP's
/// <c>ws-</c> + UUID ids and <c>default</c>. Such an id is always one path segment under the directory it is joined to.
/// The names in <see cref="Reserved"/> are refused too: the bucket keeps other state beside the workspaces' block
/// directories under them, so the compactor, which takes every valid top-level name for a workspace, never touches it.
/// </summary>
public static class WorkspaceIds
{
    public const int MaxLength = 150;
    public const string AllowedText = "letters, digits, '-', '_' and '.'";

    /// <summary>The bucket prefix ("tenancy/") of the tenancy state every component shares: workspaces, access keys,
    /// overrides (docs/format/tenancy.md).</summary>
    public const string Tenancy = "tenancy";

    /// <summary>Top-level bucket names that are not workspaces, compared ignoring case (a filesystem bucket may be on a
    /// case-insensitive volume).</summary>
    public static IReadOnlyList<string> Reserved => ReservedNames;

    private static readonly string[] ReservedNames = [Tenancy];

    /// <summary>Null when <paramref name="id"/> is a valid workspace id, else the rule it breaks.</summary>
    public static WorkspaceIdError? Validate(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength)
            return new(WorkspaceIdRule.Length, $"invalid workspace id \"{Printable(id ?? "")}\": it must be 1 to {MaxLength} characters long " +
                $"(it has {id?.Length ?? 0})");
        for (int i = 0; i < id.Length; i++)
        {
            char c = id[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') continue;
            return new(WorkspaceIdRule.Character, $"invalid workspace id \"{Printable(id)}\": character {Describe(c)} at position {i} " +
                $"is not allowed; only {AllowedText} are");
        }
        if (id is "." or "..")
            return new(WorkspaceIdRule.DotName, $"invalid workspace id \"{id}\": \".\" and \"..\" name directories, not workspaces");
        foreach (var reserved in ReservedNames)
            if (string.Equals(id, reserved, StringComparison.OrdinalIgnoreCase))
                return new(WorkspaceIdRule.Reserved, $"invalid workspace id \"{id}\": \"{reserved}\" is reserved for the state the bucket " +
                    "keeps beside the workspaces; choose another id");
        return null;
    }

    /// <summary>Returns <paramref name="id"/> when valid; throws <see cref="InvalidWorkspaceIdException"/> otherwise.</summary>
    public static string Require(string? id) => Validate(id) is { } error ? throw new InvalidWorkspaceIdException(error) : id!;

    /// <summary>
    /// The directory of workspace <paramref name="id"/> under <paramref name="root"/>, after checking the id and that the joined
    /// path is a direct child of the root (a second guard, should the rule above ever be loosened).
    /// </summary>
    public static string DirectoryUnder(string root, string id)
    {
        Require(id);
        string fullRoot = Path.GetFullPath(root);
        string dir = Path.GetFullPath(Path.Combine(fullRoot, id));
        if (!string.Equals(Path.GetDirectoryName(dir), Path.TrimEndingDirectorySeparator(fullRoot), StringComparison.Ordinal))
            throw new InvalidWorkspaceIdException(new(WorkspaceIdRule.Character, $"invalid workspace id \"{Printable(id)}\": it leaves {root}"));
        return dir;
    }

    private static string Describe(char c) => char.IsControl(c) || char.IsWhiteSpace(c) || c > '~'
        ? "U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture)
        : $"'{c}'";

    /// <summary>The id as it can be shown in a log line or an error: control characters escaped, at most 160 characters.</summary>
    private static string Printable(string s)
    {
        var b = new StringBuilder(Math.Min(s.Length, 160) + 8);
        foreach (char c in s.Length > 160 ? s[..160] : s)
        {
            if (char.IsControl(c)) b.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else b.Append(c);
        }
        if (s.Length > 160) b.Append('…');
        return b.ToString();
    }
}
