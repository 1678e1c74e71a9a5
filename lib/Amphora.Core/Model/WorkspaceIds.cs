namespace Amphora.Model;

/// <summary>What a workspace id may look like: letters, digits, '-', '_' and '.', 1 to 150 characters (e.g. <c>ws-</c> + UUID).</summary>
public static class WorkspaceIds
{
    public const int MaxLength = 150;

    public static bool IsValid(string id, out string reason)
    {
        if (id.Length is 0 or > MaxLength)
        {
            reason = $"invalid workspace id \"{Truncate(id)}\": length must be 1 to {MaxLength} characters";
            return false;
        }
        foreach (char c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                reason = $"invalid workspace id \"{Truncate(id)}\": only letters, digits, '-', '_' and '.' are allowed";
                return false;
            }
        }
        if (id is "." or "..")
        {
            reason = $"invalid workspace id \"{id}\"";
            return false;
        }
        reason = "";
        return true;
    }

    private static string Truncate(string s) => s.Length > 160 ? s[..160] + "…" : s;
}
