using Amphora.Model;

namespace Amphora.Ingester.Storage;

/// <summary>
/// The series limits as the head uses them. An appender asks <see cref="TryAdmit"/> at the first sample of a series the head
/// does not hold and releases the admission if another request created the series first (or the request is not committed);
/// the head GC releases every series it removes. So the count follows the head: one admission per series created, one
/// release per series removed. Called from request threads and the block-cut loop at once; implementations are thread-safe.
/// </summary>
public interface ISeriesAccounting
{
    /// <summary>Counts a new series of the workspace, or returns why a limit refuses it (naming the limit and its setting).</summary>
    Amphora.Storage.SeriesRefusal? TryAdmit(string workspace, Labels series);

    /// <summary>Releases a series counted by <see cref="TryAdmit"/>.</summary>
    void Release(string workspace, Labels series);

    /// <summary>Replaces a workspace's count by the series the head holds (after the WAL replay, which admits nothing).</summary>
    void Recount(string workspace, IEnumerable<Labels> series);
}
