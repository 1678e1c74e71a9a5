using Amphora.Cluster.Protocol;
using Grpc.Core;
using Grpc.Net.Client;

namespace Amphora.Cluster;

/// <summary>A client of one ingester's gRPC API (the generated stub), with a deadline on every call and the cluster's
/// metadata (its secret) sent with each.</summary>
public sealed class IngesterClient(GrpcChannel channel, Metadata? headers = null) : IDisposable
{
    /// <summary>The largest message a cluster call sends or receives (a push of a large remote write, a batch of series).</summary>
    public const int MaxMessageSize = 64 << 20;

    private readonly Ingester.IngesterClient _stub = new(channel);

    public string Target => channel.Target;

    private CallOptions Options(TimeSpan timeout, CancellationToken ct) => new(headers, DateTime.UtcNow + timeout, ct);

    public Task<PushResponse> PushAsync(PushRequest request, TimeSpan timeout, CancellationToken ct) =>
        _stub.PushAsync(request, Options(timeout, ct)).ResponseAsync;

    /// <summary>The server's stream of batches; the call ends (and its HTTP/2 stream is reset) when the enumeration stops.</summary>
    public async IAsyncEnumerable<QueryStreamResponse> QueryStreamAsync(QueryRequest request, TimeSpan timeout,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var call = _stub.QueryStream(request, Options(timeout, ct));
        while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
            yield return call.ResponseStream.Current;
    }

    public Task<LabelNamesResponse> LabelNamesAsync(LabelNamesRequest request, TimeSpan timeout, CancellationToken ct) =>
        _stub.LabelNamesAsync(request, Options(timeout, ct)).ResponseAsync;

    public Task<LabelValuesResponse> LabelValuesAsync(LabelValuesRequest request, TimeSpan timeout, CancellationToken ct) =>
        _stub.LabelValuesAsync(request, Options(timeout, ct)).ResponseAsync;

    public Task<MetadataResponse> MetadataAsync(MetadataRequest request, TimeSpan timeout, CancellationToken ct) =>
        _stub.MetadataAsync(request, Options(timeout, ct)).ResponseAsync;

    public Task<ExemplarsResponse> QueryExemplarsAsync(ExemplarsRequest request, TimeSpan timeout, CancellationToken ct) =>
        _stub.QueryExemplarsAsync(request, Options(timeout, ct)).ResponseAsync;

    public Task<StateResponse> StateAsync(TimeSpan timeout, CancellationToken ct) =>
        _stub.StateAsync(new StateRequest(), Options(timeout, ct)).ResponseAsync;

    public void Dispose() => channel.Dispose();
}
