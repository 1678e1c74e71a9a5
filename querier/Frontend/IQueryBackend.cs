using Amphora.PromQL.Engine;

namespace Amphora.Querier.Frontend;

/// <summary>
/// What the query frontend runs queries on: the querier in the same process (<see cref="QuerierService"/>), or queriers
/// over HTTP (<see cref="HttpQueryBackend"/>, for <c>--target=query-frontend</c>). Errors are <see cref="Api.ApiException"/>s.
/// </summary>
public interface IQueryBackend
{
    /// <summary>How many queries the backend evaluates at once (the frontend's slots) and how deeply queries may nest.</summary>
    QuerierOptions Options { get; }

    /// <summary>Refuses (bad_data) a range the workspace's limits do not allow.</summary>
    void CheckRange(string workspace, long start, long end);

    /// <summary>Takes one of the workspace's concurrent-query slots for a whole request (null without such a limit); 429 when none is free.</summary>
    IDisposable? EnterWorkspace(string workspace);

    /// <summary>The most samples one query of the workspace may hold (the request's threshold included).</summary>
    long MaxSamplesFor(string workspace, string? samplesErrorThreshold);

    /// <summary>The workspace's query timeout.</summary>
    TimeSpan TimeoutFor(string workspace);

    /// <param name="holdsWorkspaceSlot">The caller holds the workspace's slot (<see cref="EnterWorkspace"/>) for the request this query is part of.</param>
    Task<QueryResult> InstantQueryAsync(string workspace, string query, long time, TimeSpan? timeout, CancellationToken ct,
        string? samplesErrorThreshold = null, bool holdsWorkspaceSlot = false);

    /// <param name="holdsWorkspaceSlot">See <see cref="InstantQueryAsync"/>.</param>
    Task<QueryResult> RangeQueryAsync(string workspace, string query, long start, long end, long step, TimeSpan? timeout,
        CancellationToken ct, string? samplesErrorThreshold = null, bool holdsWorkspaceSlot = false);
}
