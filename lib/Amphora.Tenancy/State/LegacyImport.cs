using Microsoft.Extensions.Logging;

namespace Amphora.Tenancy.State;

/// <summary>
/// Moves what a data directory of an earlier version held (<c>workspaces.json</c>, <c>access-keys.json</c>) into the shared
/// state: each item the state does not hold yet is written, what it holds wins, and the file is renamed <c>*.migrated</c>
/// with a log line. While the bucket is unreachable the file is kept for the next start (logged).
/// </summary>
internal static partial class LegacyImport
{
    /// <param name="importIfAbsent">Writes the item unless the state holds one with its id; returns what the state holds after.</param>
    public static async Task RunAsync<T>(string path, string what, IReadOnlyList<T> items, Func<T, Task<T?>> importIfAbsent, string bucketName,
        ILogger logger) where T : class
    {
        int imported = 0;
        try
        {
            foreach (var item in items)
                if (ReferenceEquals(await importIfAbsent(item).ConfigureAwait(false), item)) imported++;
        }
        catch (TenancyException e) when (e.Kind == TenancyErrorKind.Unavailable)
        {
            LogDeferred(logger, what, path, e.Message);
            return;
        }
        File.Move(path, path + ".migrated", overwrite: true);
        LogMigrated(logger, imported, what, items.Count - imported, path, bucketName);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "migrated {Imported} {What} ({Present} already present) from {Path} into the tenancy state in {Bucket}; the file is kept as .migrated")]
    private static partial void LogMigrated(ILogger logger, int imported, string what, int present, string path, string bucket);

    [LoggerMessage(Level = LogLevel.Error, Message = "cannot migrate the {What} of {Path} now ({Reason}); they are not served until a start that reaches the bucket migrates them")]
    private static partial void LogDeferred(ILogger logger, string what, string path, string reason);
}
