using System.Text;
using Amphora.PromQL.Rules;

namespace Amphora.Tenancy.Rules;

/// <summary>AMP's input constraints for rule groups namespaces and Alertmanager definitions; each failure is a 400
/// <see cref="TenancyException"/> naming the field.</summary>
public static class RuleValidation
{
    public const int MaxNamespaceNameLength = 64;

    /// <summary>AMP's limit on a namespace's name and one of its group names together, in UTF-8 bytes.</summary>
    public const int MaxNamespaceAndGroupNameBytes = 721;

    /// <summary>The largest rule file or Alertmanager definition accepted (decoded bytes), as AMP's 1 MB quota.</summary>
    public const int MaxDataBytes = 1 << 20;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Null when <paramref name="name"/> is a valid namespace name (AMP's <c>[0-9A-Za-z][-.0-9A-Z_a-z]*</c>, 1 to
    /// 64 characters), else why not.</summary>
    public static string? NamespaceName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNamespaceNameLength)
            return $"name: a rule groups namespace name must be 1 to {MaxNamespaceNameLength} characters";
        if (!char.IsAsciiLetterOrDigit(name[0]))
            return $"name: \"{name}\" must start with an ASCII letter or digit";
        foreach (char c in name)
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '.' or '_'))
                return $"name: \"{name}\" may contain only ASCII letters, digits, '-', '.' and '_'";
        return null;
    }

    public static string RequireNamespaceName(string? name) =>
        NamespaceName(name) is { } problem ? throw TenancyException.Validation(problem) : name!;

    /// <summary>The text of a <c>data</c> blob: present, within <see cref="MaxDataBytes"/>, UTF-8.</summary>
    public static string DataText(byte[]? data, string what)
    {
        if (data is null || data.Length == 0) throw TenancyException.Validation($"data: the {what} is required (base64 of its YAML)");
        if (data.Length > MaxDataBytes)
            throw TenancyException.Validation($"data: the {what} is {data.Length} bytes; at most {MaxDataBytes} bytes are accepted");
        try
        {
            return StrictUtf8.GetString(data);
        }
        catch (DecoderFallbackException)
        {
            throw TenancyException.Validation($"data: the {what} is not UTF-8 text");
        }
    }

    /// <summary>Checks a rule file as Prometheus loads it (<see cref="RuleFileParser"/>) plus AMP's limit on name lengths;
    /// refuses it with 400 naming the line, group and rule.</summary>
    public static RuleFile RuleFile(string namespaceName, byte[]? data)
    {
        string text = DataText(data, "rule file");
        RuleFile file;
        try
        {
            file = RuleFileParser.Parse(text);
        }
        catch (RuleFileException e)
        {
            throw TenancyException.Validation("data: invalid rule file: " + e.Message);
        }
        int nameBytes = Encoding.UTF8.GetByteCount(namespaceName);
        foreach (var g in file.Groups)
            if (nameBytes + Encoding.UTF8.GetByteCount(g.Name) > MaxNamespaceAndGroupNameBytes)
                throw TenancyException.Validation(
                    $"data: invalid rule file: line {g.Line}: group \"{g.Name}\": the namespace name and the group name together exceed {MaxNamespaceAndGroupNameBytes} UTF-8 bytes");
        return file;
    }
}
