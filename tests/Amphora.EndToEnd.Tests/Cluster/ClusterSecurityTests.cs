using System.Net;
using Amphora.Cluster;
using Amphora.Cluster.Protocol;
using Amphora.EndToEnd.Tests.Harness;
using Grpc.Core;
using Amphora.Cluster.Security;
using Xunit;

namespace Amphora.EndToEnd.Tests.Cluster;

/// <summary>
/// A cluster with a secret (one ingester, a distributor with --auth=none, a querier with --auth=keys) attacked from outside:
/// gRPC calls without the secret are refused, and workspace ids that are paths are refused at every entry point, leaving
/// nothing outside the data dirs. The data dirs sit two levels below a folder of the test's own, so an id such as
/// <c>../../escape</c> that got through would show up as a new entry in it.
/// </summary>
public sealed class ClusterSecurityTests : IAsyncLifetime
{
    private const string Secret = "e2e-cluster-secret-0123456789";
    private readonly string _root = RepoPaths.NewTempDir("cluster-security");
    private readonly string _marker = "escape-" + Guid.NewGuid().ToString("N")[..8];
    private string _dataParent = null!;
    private AmphoraProcess _ingester = null!, _distributor = null!, _querier = null!;
    private int _grpc;

    public async Task InitializeAsync()
    {
        _dataParent = Path.Combine(_root, "level-1", "level-2");
        Directory.CreateDirectory(_dataParent);
        string secretFile = Path.Combine(_root, "cluster-secret");
        await File.WriteAllTextAsync(secretFile, Secret + "\n");
        _grpc = FreePort.Next();
        // Blocks of one minute, cut every second, so a workspace directory would be created within seconds of a push.
        _ingester = AmphoraProcess.Start(Path.Combine(_dataParent, "ingester"), null, "--target=ingester", $"--grpc.listen=127.0.0.1:{_grpc}",
            $"--cluster.secret-file={secretFile}", "--tsdb.block-range=1m", "--ingester.out-of-order-window=0s", "--tsdb.cut-interval=1s");
        await _ingester.WaitReadyAsync();
        string[] ring = [$"--ring.members=ingester-0=127.0.0.1:{_grpc}", "--ring.replication-factor=1", $"--cluster.secret-file={secretFile}"];
        _distributor = AmphoraProcess.Start(Path.Combine(_dataParent, "distributor"), null, ["--target=distributor", .. ring]);
        _querier = AmphoraProcess.Start(Path.Combine(_dataParent, "querier"), null, ["--target=querier", "--auth=keys", .. ring]);
        await Task.WhenAll(_distributor.WaitReadyAsync(), _querier.WaitReadyAsync());
    }

    public async Task DisposeAsync()
    {
        foreach (var p in new[] { _distributor, _querier, _ingester })
        {
            if (p is null) continue;
            if (!p.HasExited) await p.TerminateAsync(TimeSpan.FromSeconds(20));
            p.Dispose();
        }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private IngesterClient Client(bool withSecret) =>
        new ClusterTransport(Secret: withSecret ? ClusterSecret.Parse(Secret) : null).Client($"127.0.0.1:{_grpc}", IngesterClient.MaxMessageSize);

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static PushRequest Push(string workspace, string metric, params long[] timestamps)
    {
        var series = new Series();
        series.Labels.Add(new Label { Name = "__name__", Value = metric });
        foreach (long t in timestamps) series.Samples.Add(new Sample { TimestampMs = t, Value = 1 });
        return new PushRequest { Workspace = workspace, Series = { series } };
    }

    private static QueryRequest Query(string workspace, string metric) => new()
    {
        Workspace = workspace, StartMs = 0, EndMs = long.MaxValue,
        Matchers = { new LabelMatcher { Type = LabelMatcher.Types.Type.Equal, Name = "__name__", Value = metric } },
    };

    private static async Task<int> CountAsync(IngesterClient client, QueryRequest request)
    {
        int n = 0;
        await foreach (var batch in client.QueryStreamAsync(request, Timeout, default)) n += batch.Series.Count;
        return n;
    }

    [Fact]
    public async Task An_ingester_with_a_cluster_secret_refuses_calls_without_it_and_serves_the_clusters_own()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var anonymous = Client(withSecret: false);
        foreach (var call in new Func<Task>[]
                 {
                     () => anonymous.PushAsync(Push("default", "intruder", now), Timeout, default),
                     () => CountAsync(anonymous, Query("default", "intruder")),
                     () => anonymous.LabelNamesAsync(new LabelNamesRequest { Workspace = "default", EndMs = long.MaxValue }, Timeout, default),
                     () => anonymous.StateAsync(Timeout, default),
                 })
        {
            var e = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        }
        using var member = Client(withSecret: true);
        Assert.Equal(0, await CountAsync(member, Query("default", "intruder"))); // the refused push stored nothing
        Assert.Equal(1, (await member.PushAsync(Push("default", "member", now), Timeout, default)).SamplesAccepted);
        Assert.Equal(1, await CountAsync(member, Query("default", "member")));

        // The distributor and querier, given the same secret, write and read through the ring.
        using var writer = new RemoteWriteClient(_distributor.BaseAddress);
        var written = await writer.PushAsync("team-a", new WriteRequestBuilder().Series("__name__=\"through_the_ring\"", (now, 7)));
        Assert.True(written.Status == HttpStatusCode.NoContent, written.Body + _distributor.Output);
        Assert.Equal(1, await CountAsync(member, Query("team-a", "through_the_ring")));
    }

    /// <summary>Workspace ids that are paths, with what each resolves to if it were joined to a directory.</summary>
    private string[] PathIds() =>
    [
        $"../../{_marker}", $"../{_marker}", "..", ".", Path.Combine(_root, _marker), $"a/../../{_marker}", $"..\\..\\{_marker}",
        $"{_marker}\0", "a/b",
    ];

    [Fact]
    public async Task A_workspace_id_that_is_a_path_is_refused_at_every_entry_point_and_nothing_appears_outside_the_data_dirs()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var member = Client(withSecret: true);
        var failures = new List<string>();
        void Expect(bool ok, string what) { if (!ok) failures.Add(what); }

        // gRPC, called directly with the secret: every method checks the id (INVALID_ARGUMENT), before storing anything.
        foreach (string id in PathIds())
        {
            foreach (var (method, call) in new (string, Func<Task>)[]
                     {
                         ("Push", () => member.PushAsync(Push(id, "escaped", now - 150_000, now - 60_000), Timeout, default)),
                         ("QueryStream", () => CountAsync(member, Query(id, "escaped"))),
                         ("LabelNames", () => member.LabelNamesAsync(new LabelNamesRequest { Workspace = id, EndMs = long.MaxValue }, Timeout, default)),
                         ("LabelValues", () => member.LabelValuesAsync(new LabelValuesRequest { Workspace = id, Name = "__name__", EndMs = long.MaxValue }, Timeout, default)),
                         ("Metadata", () => member.MetadataAsync(new MetadataRequest { Workspace = id, Limit = -1, LimitPerMetric = -1 }, Timeout, default)),
                     })
            {
                var e = await Record.ExceptionAsync(call);
                Expect(e is RpcException { StatusCode: StatusCode.InvalidArgument } r && r.Status.Detail.Contains("invalid workspace id"),
                    $"gRPC {method} {Show(id)}: {e?.Message ?? "accepted"}");
            }
        }

        // HTTP: remote write with X-Scope-OrgID and in the AMP path, the query API (through the auth middleware, before any
        // credentials are looked at), and the control plane where it takes an id (without the middleware, --auth=none).
        byte[] body = IronSnappy.Snappy.Encode(new WriteRequestBuilder().Series("__name__=\"escaped\"", (now - 150_000, 1), (now - 60_000, 2)).Encode());
        (string, string)[] rw = [("Content-Type", "application/x-protobuf"), ("Content-Encoding", "snappy")];
        foreach (string id in PathIds())
        {
            var push = await RawHttp.SendAsync(_distributor.Port, "POST", "/api/v1/push", [.. rw, ("X-Scope-OrgID", id)], body);
            // NUL in a header never gets past Kestrel (400 before routing); every other id is refused by the check, naming it.
            bool Refused(RawHttp.Response r) => r.Status == 400 && (id.Contains('\0') || r.Body.Contains("invalid workspace id"));
            Expect(Refused(push), $"remote write X-Scope-OrgID {Show(id)}: {push.Status} {push.Body}");
            var query = await RawHttp.SendAsync(_querier.Port, "GET", "/prometheus/api/v1/query?query=escaped", [("X-Scope-OrgID", id)]);
            Expect(Refused(query), $"query X-Scope-OrgID {Show(id)}: {query.Status} {query.Body}");
        }
        // In a URL path, an encoded '/' stays encoded and an encoded '\' is decoded: both reach the check and get its 400. Dot
        // segments are removed and NUL is refused by Kestrel itself before routing: some other 4xx, and no workspace at all.
        foreach (var (segment, named) in new[]
                 {
                     ($"..%2F..%2F{_marker}", true), ($"%2F{_marker}", true), ($"..%5C..%5C{_marker}", true), ("a%5Cb", true),
                     ("%2E%2E", false), ($"{_marker}%00", false),
                 })
        {
            bool Refused(RawHttp.Response r) => named ? r.Status == 400 && r.Body.Contains("invalid workspace id") : r.Status is >= 400 and < 500;
            var push = await RawHttp.SendAsync(_distributor.Port, "POST", $"/workspaces/{segment}/api/v1/remote_write", rw, body);
            Expect(Refused(push), $"remote write /workspaces/{segment}: {push.Status} {push.Body}");
            var query = await RawHttp.SendAsync(_querier.Port, "GET", $"/workspaces/{segment}/api/v1/query?query=up", []);
            Expect(Refused(query), $"query /workspaces/{segment}: {query.Status} {query.Body}");
            foreach (var (method, path) in new[] { ("GET", ""), ("DELETE", ""), ("GET", "/configuration"), ("POST", "/alias"), ("GET", "/keys") })
            {
                foreach (var port in new[] { _distributor.Port, _querier.Port })
                {
                    var plane = await RawHttp.SendAsync(port, method, $"/workspaces/{segment}{path}", [("Content-Type", "application/json")],
                        "{\"alias\":\"x\"}"u8.ToArray());
                    Expect(Refused(plane), $"control plane {method} /workspaces/{segment}{path} on {port}: {plane.Status} {plane.Body}");
                }
            }
        }

        // A valid workspace pushed the same way is cut into a block within seconds: the check above had time to show.
        Assert.Equal(2, (await member.PushAsync(Push("valid-ws", "kept", now - 150_000, now - 60_000), Timeout, default)).SamplesAccepted);
        string blocks = Path.Combine(_ingester.DataDir, "blocks", "valid-ws");
        await Eventually.HoldsAsync(() => Task.FromResult(Directory.Exists(blocks) && Directory.EnumerateFiles(blocks, "meta.json", SearchOption.AllDirectories).Any()),
            () => $"a block of valid-ws under {blocks}\n{_ingester.Output}");

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        // Nothing next to the data dirs, nothing named after the marker anywhere in the test's folder, nothing at the absolute path.
        Assert.Equal(["distributor", "ingester", "querier"], Directory.GetFileSystemEntries(_dataParent).Select(Path.GetFileName).Order());
        Assert.Equal(["level-2"], Directory.GetFileSystemEntries(Path.Combine(_root, "level-1")).Select(Path.GetFileName));
        Assert.Equal(["cluster-secret", "level-1"], Directory.GetFileSystemEntries(_root).Select(Path.GetFileName).Order());
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root, "*" + _marker + "*", SearchOption.AllDirectories));
        Assert.False(Path.Exists(Path.Combine(Path.GetTempPath(), _marker)));
        // Every folder is a valid workspace's, but for the tenancy state the bucket keeps beside them (the ingester reads its
        // workspaces' series limits from it).
        foreach (var dir in new[] { Path.Combine(_ingester.DataDir, "blocks"), Path.Combine(_ingester.DataDir, "bucket") })
            if (Directory.Exists(dir))
                Assert.All(Directory.GetDirectories(dir).Select(Path.GetFileName).Where(name => name != Amphora.Model.WorkspaceIds.Tenancy),
                    name => Assert.Null(Amphora.Model.WorkspaceIds.Validate(name)));
    }

    private static string Show(string id) => id.Replace("\0", "\\0", StringComparison.Ordinal);
}
