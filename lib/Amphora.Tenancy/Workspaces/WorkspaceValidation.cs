using Amphora.Model;

namespace Amphora.Tenancy.Workspaces;

/// <summary>AMP's input constraints for workspace fields; each failure is a <see cref="TenancyException"/> naming the field.</summary>
public static class WorkspaceValidation
{
    public const int MaxAliasLength = 100;
    public const int MaxClientTokenLength = 64;
    public const int MaxTags = 50;
    public const int MaxTagKeyLength = 128;
    public const int MaxTagValueLength = 256;

    public static void Alias(string? alias)
    {
        if (alias is null) return;
        if (alias.Length is 0 or > MaxAliasLength)
            throw TenancyException.Validation($"alias: length must be 1 to {MaxAliasLength} characters");
    }

    public static void ClientToken(string? token)
    {
        if (token is null) return;
        if (token.Length is 0 or > MaxClientTokenLength)
            throw TenancyException.Validation($"clientToken: length must be 1 to {MaxClientTokenLength} characters");
        foreach (char c in token)
            if (c < '!' || c > '~') throw TenancyException.Validation("clientToken: only printable ASCII characters without spaces are allowed");
    }

    public static void Tags(IReadOnlyDictionary<string, string>? tags)
    {
        if (tags is null) return;
        if (tags.Count > MaxTags) throw TenancyException.Validation($"tags: at most {MaxTags} tags are allowed, got {tags.Count}");
        foreach (var (key, value) in tags)
        {
            TagKey(key);
            if (value is null || value.Length > MaxTagValueLength)
                throw TenancyException.Validation($"tags: the value of \"{key}\" must be 0 to {MaxTagValueLength} characters");
        }
    }

    public static void TagKey(string key)
    {
        if (key.Length is 0 or > MaxTagKeyLength)
            throw TenancyException.Validation($"tagKeys: a tag key must be 1 to {MaxTagKeyLength} characters");
        if (key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
            throw TenancyException.Validation($"tagKeys: the tag key \"{key}\" uses the reserved prefix \"aws:\"");
    }

    public static void Configuration(WorkspaceConfiguration config)
    {
        if (config.RetentionPeriodInDays is < WorkspaceConfiguration.MinRetentionPeriodInDays or > WorkspaceConfiguration.MaxRetentionPeriodInDays)
            throw TenancyException.Validation(
                $"retentionPeriodInDays: {config.RetentionPeriodInDays} is outside {WorkspaceConfiguration.MinRetentionPeriodInDays}..{WorkspaceConfiguration.MaxRetentionPeriodInDays}");
        if (config.OutOfOrderTimeWindowInSeconds < 0)
            throw TenancyException.Validation("outOfOrderTimeWindowInSeconds: must not be negative");
        if (config.Limits is { } own)
        {
            if (own.IngestionRate is { } rate && !(rate > 0 && double.IsFinite(rate)))
                throw TenancyException.Validation($"limits.ingestionRate: {rate} must be a positive number of samples per second");
            if (own.IngestionBurstSize is <= 0) throw TenancyException.Validation($"limits.ingestionBurstSize: {own.IngestionBurstSize} must be positive");
            if (own.MaxSeries is <= 0) throw TenancyException.Validation($"limits.maxSeries: {own.MaxSeries} must be positive");
            if (own.MaxSeriesPerMetric is <= 0) throw TenancyException.Validation($"limits.maxSeriesPerMetric: {own.MaxSeriesPerMetric} must be positive");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < config.LimitsPerLabelSet.Count; i++)
        {
            var entry = config.LimitsPerLabelSet[i];
            if (entry.Limits is null || entry.Limits.MaxSeries < 0)
                throw TenancyException.Validation($"limitsPerLabelSet[{i}].limits.maxSeries: must be 0 or more");
            if (entry.LabelSet is null)
                throw TenancyException.Validation($"limitsPerLabelSet[{i}].labelSet: is required");
            foreach (var (name, value) in entry.LabelSet)
            {
                if (!LabelNames.IsValid(name) || name.StartsWith("__", StringComparison.Ordinal) && name != Label.MetricName)
                    throw TenancyException.Validation($"limitsPerLabelSet[{i}].labelSet: invalid label name \"{name}\"");
                if (string.IsNullOrEmpty(value))
                    throw TenancyException.Validation($"limitsPerLabelSet[{i}].labelSet: the value of \"{name}\" must not be empty");
            }
            string key = LabelSetKey(entry.LabelSet);
            if (!seen.Add(key))
                throw TenancyException.Validation($"limitsPerLabelSet[{i}].labelSet: the label set {key} appears more than once");
        }
    }

    /// <summary>A canonical text form of a label set, <c>{a="1", b="2"}</c> with names sorted.</summary>
    public static string LabelSetKey(IReadOnlyDictionary<string, string> labelSet)
    {
        var names = new List<string>(labelSet.Keys);
        names.Sort(StringComparer.Ordinal);
        var parts = new List<string>(names.Count);
        foreach (var n in names) parts.Add($"{n}=\"{labelSet[n]}\"");
        return "{" + string.Join(", ", parts) + "}";
    }
}
