using System.Net.Http.Headers;
using Amphora.Querier.Api;
using Microsoft.AspNetCore.Http;

namespace Amphora.Querier.Frontend;

/// <summary>
/// Passes the query API's other endpoints (series, labels, metadata, status, cardinality) from a
/// <c>--target=query-frontend</c> to the queriers unchanged: the method, path, query string, form body and
/// <c>X-Scope-OrgID</c> go on, the caller's credential (already checked here) is replaced by the frontend's own, and the
/// querier's status, content type and body come back.
/// </summary>
public sealed class QueryForwarder(HttpClient http, Func<AuthenticationHeaderValue?> credential)
{
    public async Task ForwardAsync(HttpContext ctx)
    {
        var source = ctx.Request;
        using var request = new HttpRequestMessage(new HttpMethod(source.Method), source.Path.Value + source.QueryString.Value);
        if (HttpMethods.IsPost(source.Method))
        {
            using var buffer = new MemoryStream();
            var body = new byte[81920];
            int n;
            while ((n = await source.Body.ReadAsync(body, ctx.RequestAborted)) > 0)
            {
                if (buffer.Length + n > FormDecoder.MaxBodyBytes)
                {
                    await WriteErrorAsync(ctx, StatusCodes.Status413PayloadTooLarge, ApiErrorType.BadData,
                        $"request body larger than {FormDecoder.MaxBodyBytes} bytes");
                    return;
                }
                buffer.Write(body, 0, n);
            }
            request.Content = new ByteArrayContent(buffer.ToArray());
            if (source.ContentType is { } type) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        }
        if (source.Headers.TryGetValue("X-Scope-OrgID", out var org)) request.Headers.Add("X-Scope-OrgID", org.ToString());
        request.Headers.Authorization = credential();
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ctx.RequestAborted);
            ctx.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } contentType) ctx.Response.ContentType = contentType.ToString();
            await response.Content.CopyToAsync(ctx.Response.Body, ctx.RequestAborted);
        }
        catch (HttpRequestException e)
        {
            await WriteErrorAsync(ctx, StatusCodes.Status503ServiceUnavailable, ApiErrorType.Unavailable,
                $"no querier answered at {http.BaseAddress} (--query-frontend.downstream-url): {e.Message}");
        }
    }

    private static async Task WriteErrorAsync(HttpContext ctx, int status, ApiErrorType type, string message)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.Body.WriteAsync(PrometheusApi.ErrorBody(type, message).WrittenMemory, ctx.RequestAborted);
    }
}
