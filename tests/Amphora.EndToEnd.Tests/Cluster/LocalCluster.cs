using Amphora.EndToEnd.Tests.Harness;

namespace Amphora.EndToEnd.Tests.Cluster;

/// <summary>
/// Three ingesters (replication factor 3), a distributor and a querier as separate processes talking gRPC, and a single
/// process (<c>--target=all</c>) beside them to compare answers with.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    public List<AmphoraProcess> Ingesters { get; } = new();
    public AmphoraProcess Distributor { get; private set; } = null!;
    public AmphoraProcess Querier { get; private set; } = null!;
    public AmphoraProcess Single { get; private set; } = null!;

    public static async Task<LocalCluster> StartAsync()
    {
        var cluster = new LocalCluster();
        var grpcPorts = new List<int>();
        for (int i = 0; i < 3; i++)
        {
            int grpc = FreePort.Next();
            grpcPorts.Add(grpc);
            cluster.Ingesters.Add(AmphoraProcess.Start(null, null, "--target=ingester", $"--ingester.name=ingester-{i}", $"--grpc.listen=127.0.0.1:{grpc}"));
        }
        string members = string.Join(",", grpcPorts.Select((p, i) => $"ingester-{i}=127.0.0.1:{p}"));
        foreach (var ingester in cluster.Ingesters) await ingester.WaitReadyAsync();
        cluster.Distributor = AmphoraProcess.Start(null, null, "--target=distributor", $"--ring.members={members}", "--ring.poll-interval=500ms");
        cluster.Querier = AmphoraProcess.Start(null, null, "--target=querier", $"--ring.members={members}", "--ring.poll-interval=500ms");
        cluster.Single = AmphoraProcess.Start();
        await Task.WhenAll(cluster.Distributor.WaitReadyAsync(), cluster.Querier.WaitReadyAsync(), cluster.Single.WaitReadyAsync());
        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in Ingesters.Append(Distributor).Append(Querier).Append(Single))
        {
            if (p is null) continue;
            if (!p.HasExited) await p.TerminateAsync(TimeSpan.FromSeconds(20));
            p.Dispose();
        }
    }

    /// <summary>A query answer as compared: instant vectors as sets (the order of a vector's elements is not part of the
    /// answer), anything else as it is.</summary>
    public static string Normalize(string body)
    {
        var json = System.Text.Json.JsonDocument.Parse(body).RootElement;
        if (!json.TryGetProperty("data", out var data) || data.GetProperty("resultType").GetString() != "vector") return body;
        return string.Join("\n", data.GetProperty("result").EnumerateArray().Select(e => e.GetRawText()).Order(StringComparer.Ordinal));
    }
}
