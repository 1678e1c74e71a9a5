using Amphora.Cluster.Protocol;
using Amphora.Tsdb;
using Amphora.Tsdb.Chunks;

namespace Amphora.Ingester.Tests.Grpc;

/// <summary>Start timestamps pushed to an ingester over gRPC are stored and come back through QueryStream beside each chunk,
/// one per sample; a series without them streams chunks without any.</summary>
public sealed class StartTimestampGrpcTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Pushed_start_timestamps_stream_back_one_per_sample_and_plain_series_carry_none()
    {
        await using var server = await IngesterGrpcServer.StartAsync();
        using var client = IngesterGrpcTests.Client(server);
        long start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3_600_000;
        var push = new PushRequest { Workspace = "ws" };
        var deltas = new Series { Labels = { new Label { Name = "__name__", Value = "deltas_total" } } };
        var plain = new Series { Labels = { new Label { Name = "__name__", Value = "plain_total" } } };
        for (int i = 0; i < 150; i++)
        {
            long t = start + i * 1000L;
            deltas.Samples.Add(new Sample { TimestampMs = t, Value = 1, StartTimestampMs = i == 70 ? 0 : t - 1000 });
            plain.Samples.Add(new Sample { TimestampMs = t, Value = i });
        }
        push.Series.Add([deltas, plain]);
        Assert.Equal(300, (await client.PushAsync(push, Timeout, default)).SamplesAccepted);

        var streamed = new List<StreamSeries>();
        await foreach (var batch in client.QueryStreamAsync(IngesterGrpcTests.Query("ws", ".+_total", "=~"), Timeout, default)) streamed.AddRange(batch.Series);
        var byName = streamed.ToDictionary(s => s.Labels.Single(l => l.Name == "__name__").Value);
        Assert.All(byName["plain_total"].Chunks, c => Assert.Empty(c.StartTimestamps));

        var read = new List<(long T, long ST)>();
        foreach (var c in byName["deltas_total"].Chunks)
        {
            Assert.Equal(c.Data[0] << 8 | c.Data[1], c.StartTimestamps.Count);
            var chunk = new ChunkData(c.Data.ToByteArray(), c.MinTimeMs, c.MaxTimeMs, c.StartTimestamps.Count, (byte)c.Encoding, c.StartTimestamps.ToArray());
            var it = new ChunkSequenceIterator([chunk]);
            while (it.Next() != Amphora.Storage.ValueType.None) read.Add((it.AtT(), it.AtST()));
        }
        Assert.Equal(deltas.Samples.Select(s => (s.TimestampMs, s.StartTimestampMs)), read);
    }
}
