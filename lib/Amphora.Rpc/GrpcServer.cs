using Amphora.Rpc.Health;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Amphora.Rpc;

/// <summary>What a handler knows about its call: the cancellation token (client cancel or deadline), deadline and headers.</summary>
public sealed class ServerCallContext(HttpContext http, string method, DateTime? deadline, CancellationToken token)
{
    public HttpContext Http { get; } = http;
    public string Method { get; } = method;
    public DateTime? Deadline { get; } = deadline;
    public CancellationToken CancellationToken { get; } = token;
    public string? Header(string name) => Http.Request.Headers[name].FirstOrDefault();
}

/// <summary>Sends the messages of a server-streaming call.</summary>
public interface IServerStreamWriter<in T>
{
    Task WriteAsync(T message);
}

/// <summary>Limits of a gRPC endpoint.</summary>
public sealed record GrpcServerOptions
{
    public int MaxReceiveMessageSize { get; init; } = GrpcWire.DefaultMaxMessageSize;
    public int MaxSendMessageSize { get; init; } = GrpcWire.DefaultMaxMessageSize;

    /// <summary>Checked for every call before its message is read (authentication); null admits every call.</summary>
    public Security.IGrpcCallGuard? Guard { get; init; }
}

/// <summary>
/// Serves gRPC methods from Kestrel endpoints: <c>POST /package.Service/Method</c> with <c>application/grpc</c>, one request
/// message, one (unary) or many (server-streaming) response messages, then <c>grpc-status</c>/<c>grpc-message</c> trailers
/// — or a trailers-only response when the call fails before any message. <c>grpc-timeout</c> becomes a deadline.
/// </summary>
public static class GrpcServer
{
    public static void MapGrpcUnary<TReq, TResp>(this IEndpointRouteBuilder routes, string method, MessageParser<TReq> parser,
        Func<TReq, ServerCallContext, Task<TResp>> handler, GrpcServerOptions? options = null)
        where TReq : class, IMessage<TReq> where TResp : IMessage
    {
        options ??= new GrpcServerOptions();
        routes.MapPost(method, ctx => HandleAsync<TReq, TResp>(ctx, method, parser, options, async (request, call, writer) =>
        {
            var response = await handler(request, call);
            await writer.WriteAsync(response);
        }));
    }

    public static void MapGrpcServerStreaming<TReq, TResp>(this IEndpointRouteBuilder routes, string method, MessageParser<TReq> parser,
        Func<TReq, IServerStreamWriter<TResp>, ServerCallContext, Task> handler, GrpcServerOptions? options = null)
        where TReq : class, IMessage<TReq> where TResp : IMessage
    {
        options ??= new GrpcServerOptions();
        routes.MapPost(method, ctx => HandleAsync<TReq, TResp>(ctx, method, parser, options,
            (request, call, writer) => handler(request, writer, call)));
    }

    /// <summary>Answers every other gRPC request with UNIMPLEMENTED.</summary>
    public static void MapGrpcFallback(this IEndpointRouteBuilder routes) =>
        routes.MapFallback(ctx =>
        {
            if (!IsGrpc(ctx.Request)) { ctx.Response.StatusCode = 404; return Task.CompletedTask; }
            ctx.Response.ContentType = GrpcWire.ContentType;
            WriteStatus(ctx, StatusCode.Unimplemented, $"unknown method {ctx.Request.Path}");
            return Task.CompletedTask;
        });

    /// <summary>grpc.health.v1.Health/Check; <paramref name="status"/> maps a service name ("" = the server) to its status.</summary>
    public static void MapGrpcHealth(this IEndpointRouteBuilder routes, Func<string, HealthCheckResponse.Types.ServingStatus> status) =>
        routes.MapGrpcUnary("/grpc.health.v1.Health/Check", HealthCheckRequest.Parser, (request, _) =>
        {
            var s = status(request.Service);
            if (s == HealthCheckResponse.Types.ServingStatus.ServiceUnknown)
                throw new RpcException(StatusCode.NotFound, $"unknown service \"{request.Service}\"");
            return Task.FromResult(new HealthCheckResponse { Status = s });
        });

    private static bool IsGrpc(HttpRequest request) =>
        request.ContentType is { } ct && ct.StartsWith(GrpcWire.ContentType, StringComparison.OrdinalIgnoreCase);

    private sealed class StreamWriter<T>(HttpContext ctx, GrpcServerOptions options, CancellationToken ct) : IServerStreamWriter<T> where T : IMessage
    {
        public bool Wrote { get; private set; }

        public async Task WriteAsync(T message)
        {
            if (!ctx.Response.HasStarted) await ctx.Response.StartAsync(ct);
            await GrpcWire.WriteMessageAsync(ctx.Response.Body, message, options.MaxSendMessageSize, ct);
            await ctx.Response.Body.FlushAsync(ct);
            Wrote = true;
        }
    }

    private static async Task HandleAsync<TReq, TResp>(HttpContext ctx, string method, MessageParser<TReq> parser, GrpcServerOptions options,
        Func<TReq, ServerCallContext, IServerStreamWriter<TResp>, Task> run)
        where TReq : class, IMessage<TReq> where TResp : IMessage
    {
        if (!IsGrpc(ctx.Request))
        {
            ctx.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }
        ctx.Response.ContentType = GrpcWire.ContentType;
        if (options.Guard?.Admit(ctx) is { } refused)
        {
            WriteStatus(ctx, refused.Status, refused.Detail);
            return;
        }
        string? encoding = ctx.Request.Headers["grpc-encoding"].FirstOrDefault();
        if (encoding is not null && encoding != "identity")
        {
            ctx.Response.Headers["grpc-accept-encoding"] = "identity";
            WriteStatus(ctx, StatusCode.Unimplemented, $"grpc-encoding \"{encoding}\" is not supported; use identity");
            return;
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        DateTime? deadlineAt = null;
        if (GrpcWire.TryParseTimeout(ctx.Request.Headers["grpc-timeout"].FirstOrDefault(), out var timeout))
        {
            deadlineAt = DateTime.UtcNow + timeout;
            deadline.CancelAfter(timeout);
        }
        var writer = new StreamWriter<TResp>(ctx, options, deadline.Token);
        var call = new ServerCallContext(ctx, method, deadlineAt, deadline.Token);
        StatusCode status = StatusCode.OK;
        string message = "";
        try
        {
            var request = await GrpcWire.ReadMessageAsync(ctx.Request.BodyReader, parser, options.MaxReceiveMessageSize, deadline.Token)
                ?? throw new RpcException(StatusCode.Internal, "the request has no message");
            await run(request, call, writer);
        }
        catch (RpcException e)
        {
            (status, message) = (e.Status, e.Detail);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            return; // the client cancelled (RST_STREAM): nobody is listening
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            (status, message) = (StatusCode.DeadlineExceeded, "deadline exceeded");
        }
        catch (Exception e)
        {
            (status, message) = (StatusCode.Unknown, "exception in the handler: " + e.Message);
        }
        WriteStatus(ctx, status, message);
    }

    /// <summary>Status as trailers after messages, or in the headers of a trailers-only response.</summary>
    private static void WriteStatus(HttpContext ctx, StatusCode status, string message)
    {
        string code = ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (ctx.Response.HasStarted && ctx.Response.SupportsTrailers())
        {
            ctx.Response.AppendTrailer("grpc-status", code);
            if (message.Length > 0) ctx.Response.AppendTrailer("grpc-message", GrpcWire.EncodeMessage(message));
            return;
        }
        ctx.Response.Headers["grpc-status"] = code;
        if (message.Length > 0) ctx.Response.Headers["grpc-message"] = GrpcWire.EncodeMessage(message);
    }
}
