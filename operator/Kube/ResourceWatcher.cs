using System.Collections.Concurrent;
using System.Net;
using Amphora.Operator.Api;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Logging;

namespace Amphora.Operator.Kube;

/// <summary>
/// An informer for one kind: lists it, then watches from the list's resourceVersion with bookmarks, keeping the newest copy
/// of every object in <see cref="Cache"/> and handing each changed key to <see cref="Changed"/>. A watch that ends is resumed
/// from the last resourceVersion seen (events or bookmarks); 410 Gone (the version was compacted away) relists, which
/// also notices objects deleted meanwhile. API server outages are retried with capped exponential backoff.
/// </summary>
public sealed partial class ResourceWatcher<T>(IKubernetes client, string plural, string? watchNamespace, ILogger logger)
    where T : class, IAmphoraResource
{
    private readonly ConcurrentDictionary<string, T> _cache = new(StringComparer.Ordinal);
    private string? _resourceVersion;

    public IReadOnlyDictionary<string, T> Cache => _cache;
    public event Action<string>? Changed;

    /// <summary>Lists and watches until cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        int failures = 0;
        bool relist = true;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (relist) await RelistAsync(ct);
                relist = false;
                relist = await WatchOnceAsync(ct);
                failures = 0;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsGone(e))
            {
                LogGone(plural);
                relist = true;
            }
            catch (Exception e)
            {
                // A transport failure resumes from the last resourceVersion. Anything else (a body that does not
                // deserialize, something the client library throws) relists, as the cache may have missed events; it is
                // retried all the same, since a watcher that stops ends reconciling of its kind while the replica still
                // holds the Lease.
                if (e is not (HttpRequestException or HttpOperationException or IOException or KubernetesException or TaskCanceledException))
                    relist = true;
                var delay = TimeSpan.FromMilliseconds(Math.Min(200 * Math.Pow(2, failures++), 10_000));
                LogWatchFailed(e, plural, delay.TotalSeconds);
                await Task.Delay(delay, ct);
            }
        }
    }

    private static bool IsGone(Exception e) =>
        e is HttpOperationException { Response.StatusCode: HttpStatusCode.Gone } || e is KubernetesException { Status.Code: 410 };

    private async Task RelistAsync(CancellationToken ct)
    {
        var response = watchNamespace is null
            ? await client.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync<ResourceList<T>>(
                AmphoraApi.Group, AmphoraApi.Version, plural, cancellationToken: ct)
            : await client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<ResourceList<T>>(
                AmphoraApi.Group, AmphoraApi.Version, watchNamespace, plural, cancellationToken: ct);
        using (response)
        {
            var list = response.Body;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in list.Items)
            {
                string key = ObjectKey.Of(item);
                seen.Add(key);
                _cache[key] = item;
                Changed?.Invoke(key);
            }
            foreach (var key in _cache.Keys)
            {
                if (seen.Contains(key)) continue;
                _cache.TryRemove(key, out _);
                Changed?.Invoke(key);
            }
            _resourceVersion = list.ListMeta.ResourceVersion;
            LogListed(plural, list.Items.Count, _resourceVersion);
        }
    }

    /// <summary>One watch request; returns true when a relist is needed (410 Gone).</summary>
    private async Task<bool> WatchOnceAsync(CancellationToken ct)
    {
        bool gone = false;
        void OnError(Exception e)
        {
            if (IsGone(e)) gone = true;
            else LogWatchError(e, plural);
        }
        var watch = watchNamespace is null
            ? client.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync(AmphoraApi.Group, AmphoraApi.Version, plural,
                allowWatchBookmarks: true, resourceVersion: _resourceVersion, timeoutSeconds: 300, watch: true, cancellationToken: ct)
            : client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync(AmphoraApi.Group, AmphoraApi.Version, watchNamespace,
                plural, allowWatchBookmarks: true, resourceVersion: _resourceVersion, timeoutSeconds: 300, watch: true, cancellationToken: ct);
        // The typed WatchAsync over a list response is marked obsolete in favour of per-operation watch methods, which for
        // custom objects only yield untyped objects; the typed form is the one that keeps entities typed.
#pragma warning disable CS0618
        var events = watch.WatchAsync<T, object>(OnError, ct);
#pragma warning restore CS0618
        await foreach (var (type, item) in events)
        {
            if (gone) break;
            if (item?.Metadata?.ResourceVersion is { } rv) _resourceVersion = rv;
            if (type == WatchEventType.Bookmark || item?.Metadata?.Name is null) continue;
            string key = ObjectKey.Of(item);
            if (type == WatchEventType.Deleted) _cache.TryRemove(key, out _);
            else _cache[key] = item;
            Changed?.Invoke(key);
        }
        return gone;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "listed {Plural}: {Count} objects at resourceVersion {ResourceVersion}")]
    private partial void LogListed(string plural, int count, string? resourceVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "watch of {Plural}: resourceVersion too old (410 Gone), relisting")]
    private partial void LogGone(string plural);

    [LoggerMessage(Level = LogLevel.Warning, Message = "watch of {Plural} failed; retrying in {Seconds}s")]
    private partial void LogWatchFailed(Exception e, string plural, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "watch of {Plural} reported an error")]
    private partial void LogWatchError(Exception e, string plural);
}
