using Amphora.Cluster.Protocol;
using Amphora.Rpc;

namespace Amphora.Cluster;

/// <summary>A typed client of one ingester's gRPC API.</summary>
public sealed class IngesterClient(GrpcChannel channel) : IDisposable
{
    private const string Service = "/amphora.ingester.v1.Ingester/";

    public Uri Address => channel.Address;

    public Task<PushResponse> PushAsync(PushRequest request, TimeSpan timeout, CancellationToken ct) =>
        channel.UnaryAsync(Service + "Push", request, PushResponse.Parser, new CallOptions { Timeout = timeout, CancellationToken = ct });

    public IAsyncEnumerable<QueryStreamResponse> QueryStreamAsync(QueryRequest request, TimeSpan timeout, CancellationToken ct) =>
        channel.ServerStreamingAsync(Service + "QueryStream", request, QueryStreamResponse.Parser,
            new CallOptions { Timeout = timeout, CancellationToken = ct });

    public Task<LabelNamesResponse> LabelNamesAsync(LabelNamesRequest request, TimeSpan timeout, CancellationToken ct) =>
        channel.UnaryAsync(Service + "LabelNames", request, LabelNamesResponse.Parser, new CallOptions { Timeout = timeout, CancellationToken = ct });

    public Task<LabelValuesResponse> LabelValuesAsync(LabelValuesRequest request, TimeSpan timeout, CancellationToken ct) =>
        channel.UnaryAsync(Service + "LabelValues", request, LabelValuesResponse.Parser, new CallOptions { Timeout = timeout, CancellationToken = ct });

    public Task<MetadataResponse> MetadataAsync(MetadataRequest request, TimeSpan timeout, CancellationToken ct) =>
        channel.UnaryAsync(Service + "Metadata", request, MetadataResponse.Parser, new CallOptions { Timeout = timeout, CancellationToken = ct });

    public Task<StateResponse> StateAsync(TimeSpan timeout, CancellationToken ct) =>
        channel.UnaryAsync(Service + "State", new StateRequest(), StateResponse.Parser, new CallOptions { Timeout = timeout, CancellationToken = ct });

    public void Dispose() => channel.Dispose();
}
