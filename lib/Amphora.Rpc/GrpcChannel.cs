using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace Amphora.Rpc;

/// <summary>Per-call settings: a deadline (sent as <c>grpc-timeout</c> and enforced locally), cancellation, metadata.</summary>
public sealed record CallOptions
{
    public TimeSpan? Timeout { get; init; }
    public CancellationToken CancellationToken { get; init; }
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}

/// <summary>
/// A client connection to one gRPC server over <see cref="HttpClient"/> with HTTP/2 (prior knowledge for <c>http://</c>,
/// ALPN for <c>https://</c>); connections are reused and several HTTP/2 connections are opened when streams run out.
/// Thread-safe; create one per target and keep it.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    private readonly HttpClient _http;
    private readonly KeyValuePair<string, string>[] _callMetadata;

    /// <param name="trustedCertificate">For <c>https://</c> addresses: a CA (or the server's own self-signed certificate) to
    /// trust instead of the system roots; null uses the system's trust store.</param>
    /// <param name="clientCertificate">For <c>https://</c> addresses: the certificate (with its key) presented for mutual TLS.</param>
    /// <param name="callMetadata">Metadata sent with every call (the cluster secret), before each call's own.</param>
    public GrpcChannel(Uri address, int maxReceiveMessageSize = GrpcWire.DefaultMaxMessageSize,
        System.Security.Cryptography.X509Certificates.X509Certificate2? trustedCertificate = null,
        System.Security.Cryptography.X509Certificates.X509Certificate2? clientCertificate = null,
        IEnumerable<KeyValuePair<string, string>>? callMetadata = null)
    {
        _callMetadata = callMetadata?.ToArray() ?? [];
        Address = address;
        MaxReceiveMessageSize = maxReceiveMessageSize;
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        if (trustedCertificate is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null) return false;
                if (errors == System.Net.Security.SslPolicyErrors.None) return true;
                if ((errors & System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                return Security.CertificateTrust.ChainsTo(certificate, trustedCertificate);
            };
        }
        if (clientCertificate is not null)
            handler.SslOptions.ClientCertificates = new System.Security.Cryptography.X509Certificates.X509CertificateCollection { clientCertificate };
        _http = new HttpClient(handler)
        {
            BaseAddress = address,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
    }

    public Uri Address { get; }
    public int MaxReceiveMessageSize { get; }

    public async Task<TResp> UnaryAsync<TReq, TResp>(string method, TReq request, MessageParser<TResp> parser, CallOptions? options = null)
        where TReq : IMessage where TResp : class, IMessage<TResp>
    {
        TResp? first = null;
        // Read to the end so the trailers' status is checked even after the message.
        await foreach (var response in ServerStreamingAsync(method, request, parser, options))
            first ??= response;
        return first ?? throw new RpcException(StatusCode.Internal, $"{method} returned no message");
    }

    public async IAsyncEnumerable<TResp> ServerStreamingAsync<TReq, TResp>(string method, TReq request, MessageParser<TResp> parser,
        CallOptions? options = null, [EnumeratorCancellation] CancellationToken enumeratorToken = default)
        where TReq : IMessage where TResp : class, IMessage<TResp>
    {
        options ??= new CallOptions();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken, enumeratorToken);
        if (options.Timeout is { } t) cts.CancelAfter(t);
        var ct = cts.Token;

        var body = new MemoryStream();
        await GrpcWire.WriteMessageAsync(body, request, int.MaxValue, CancellationToken.None);
        body.Position = 0;
        using var message = new HttpRequestMessage(HttpMethod.Post, method)
        {
            Content = new StreamContent(body),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue(GrpcWire.ContentType);
        message.Headers.TryAddWithoutValidation("te", "trailers");
        if (options.Timeout is { } timeout) message.Headers.TryAddWithoutValidation("grpc-timeout", GrpcWire.FormatTimeout(timeout));
        foreach (var (k, v) in _callMetadata) message.Headers.TryAddWithoutValidation(k, v);
        foreach (var (k, v) in options.Headers ?? new Dictionary<string, string>()) message.Headers.TryAddWithoutValidation(k, v);

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (OperationCanceledException) when (!options.CancellationToken.IsCancellationRequested && !enumeratorToken.IsCancellationRequested)
        {
            throw new RpcException(StatusCode.DeadlineExceeded, $"{method}: deadline exceeded");
        }
        catch (OperationCanceledException)
        {
            throw new RpcException(StatusCode.Cancelled, $"{method}: cancelled");
        }
        catch (HttpRequestException e)
        {
            throw new RpcException(StatusCode.Unavailable, $"{method} at {Address}: {e.Message}");
        }
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK)
                throw new RpcException(FromHttpStatus(response.StatusCode), $"{method}: HTTP {(int)response.StatusCode}");
            // Trailers-only: the status is in the headers and there is no message.
            if (StatusFrom(response.Headers) is { } early)
            {
                if (early.Code != StatusCode.OK) throw new RpcException(early.Code, early.Message);
                yield break;
            }
            var stream = await response.Content.ReadAsStreamAsync(ct);
            var reader = PipeReader.Create(stream);
            while (true)
            {
                TResp? next;
                try
                {
                    next = await GrpcWire.ReadMessageAsync(reader, parser, MaxReceiveMessageSize, ct);
                }
                catch (OperationCanceledException) when (!options.CancellationToken.IsCancellationRequested && !enumeratorToken.IsCancellationRequested)
                {
                    throw new RpcException(StatusCode.DeadlineExceeded, $"{method}: deadline exceeded");
                }
                catch (IOException e)
                {
                    throw new RpcException(StatusCode.Unavailable, $"{method}: {e.Message}");
                }
                if (next is null) break;
                yield return next;
            }
            await reader.CompleteAsync();
            var status = StatusFrom(response.TrailingHeaders)
                ?? throw new RpcException(StatusCode.Internal, $"{method}: the response ended without grpc-status");
            if (status.Code != StatusCode.OK) throw new RpcException(status.Code, status.Message);
        }
    }

    private static (StatusCode Code, string Message)? StatusFrom(HttpHeaders headers)
    {
        if (!headers.TryGetValues("grpc-status", out var values)) return null;
        int code = int.TryParse(values.FirstOrDefault(), out int c) ? c : (int)StatusCode.Unknown;
        string message = headers.TryGetValues("grpc-message", out var m) ? GrpcWire.DecodeMessage(m.FirstOrDefault()) : "";
        return ((StatusCode)code, message);
    }

    /// <summary>The gRPC spec's mapping of HTTP statuses seen without a grpc-status.</summary>
    private static StatusCode FromHttpStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => StatusCode.Internal,
        HttpStatusCode.Unauthorized => StatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => StatusCode.PermissionDenied,
        HttpStatusCode.NotFound => StatusCode.Unimplemented,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable
            or HttpStatusCode.GatewayTimeout => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    public void Dispose() => _http.Dispose();
}
