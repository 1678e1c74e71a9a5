namespace Amphora.Operator.Api;

/// <summary>Condition types and the update rule of the API conventions: lastTransitionTime changes only with the status.</summary>
public static class Conditions
{
    public const string Ready = "Ready";
    public const string WorkspaceSynced = "WorkspaceSynced";
    public const string ConfigurationApplied = "ConfigurationApplied";
    public const string LimitsApplied = "LimitsApplied";
    public const string AccessKeysReady = "AccessKeysReady";
    public const string Valid = "Valid";
    public const string WorkspaceReady = "WorkspaceReady";
    public const string Stored = "Stored";
    public const string CollectorReady = "CollectorReady";

    public static void Set(ResourceStatus status, long? generation, string type, bool ok, string reason, string message) =>
        Set(status, generation, type, ok ? "True" : "False", reason, message);

    public static void Set(ResourceStatus status, long? generation, string type, string value, string reason, string message)
    {
        var existing = status.Conditions.Find(c => c.Type == type);
        if (existing is null)
        {
            existing = new Condition { Type = type, LastTransitionTime = Now() };
            status.Conditions.Add(existing);
        }
        else if (existing.Status != value)
        {
            existing.LastTransitionTime = Now();
        }
        existing.Status = value;
        existing.Reason = reason;
        existing.Message = message;
        existing.ObservedGeneration = generation;
    }

    public static bool IsTrue(ResourceStatus? status, string type) => status?.Conditions.Find(c => c.Type == type)?.Status == "True";

    // The API server stores seconds; keeping whole seconds makes an unchanged condition compare equal after a round trip.
    private static DateTime Now()
    {
        var t = DateTime.UtcNow;
        return new DateTime(t.Ticks - t.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    }
}
