using Amphora.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Amphora.Querier.Api;

/// <summary>One API request: its workspace and parameters from the query string and a form-encoded body.</summary>
public sealed class ApiRequest
{
    private readonly Dictionary<string, List<string>> _params = new(StringComparer.Ordinal);

    public required string Workspace { get; init; }
    public required HttpContext Http { get; init; }
    public CancellationToken Aborted => Http.RequestAborted;

    public static async Task<ApiRequest> ReadAsync(HttpContext ctx)
    {
        string? workspace = ctx.Request.RouteValues.TryGetValue("workspaceId", out var w) ? w as string : ctx.Request.Headers["X-Scope-OrgID"].ToString();
        if (string.IsNullOrEmpty(workspace))
            throw new ApiException(ApiErrorType.BadData, "no workspace: send the X-Scope-OrgID header, or use /workspaces/{workspaceId}/api/v1/...");
        if (WorkspaceIds.Validate(workspace) is { } invalid)
            throw new ApiException(ApiErrorType.BadData, invalid.Message);
        var request = new ApiRequest { Workspace = workspace, Http = ctx };
        var fields = new List<KeyValuePair<string, string>>();
        // The raw query string: ASP.NET Core's decoded Query would turn %FF into U+FFFD and pass NUL on.
        if (ctx.Request.QueryString.Value is { Length: > 1 } raw)
            FormDecoder.Decode(System.Text.Encoding.UTF8.GetBytes(raw[1..]), "query string", fields);
        if (HttpMethods.IsPost(ctx.Request.Method) && ctx.Request.HasFormContentType)
        {
            if (ctx.Request.GetTypedHeaders().ContentType?.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true)
                await ReadMultipartAsync(ctx, fields);
            else
                await FormDecoder.DecodeBodyAsync(ctx.Request.Body, ctx.Request.ContentLength, fields, ctx.RequestAborted);
        }
        foreach (var (k, v) in fields)
        {
            if (!request._params.TryGetValue(k, out var list)) request._params[k] = list = new List<string>();
            list.Add(v);
        }
        if (ctx.Request.RouteValues.TryGetValue("name", out var name) && name is string n)
            request._params["__route_name"] = [n];
        return request;
    }

    /// <summary>
    /// A multipart form (Go's FormValue reads those too), through ASP.NET Core's reader with the same limits as a
    /// form-encoded body; its InvalidDataException (a limit, a malformed section) is the client's error.
    /// </summary>
    private static async Task ReadMultipartAsync(HttpContext ctx, List<KeyValuePair<string, string>> fields)
    {
        ctx.Features.Set<IFormFeature>(new FormFeature(ctx.Request, new FormOptions
        {
            MultipartBodyLengthLimit = FormDecoder.MaxBodyBytes,
            ValueCountLimit = FormDecoder.MaxFields,
            ValueLengthLimit = FormDecoder.MaxValueBytes,
            KeyLengthLimit = FormDecoder.MaxKeyBytes,
        }));
        IFormCollection form;
        try
        {
            form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
        }
        catch (InvalidDataException e)
        {
            throw new ApiException(ApiErrorType.BadData, $"invalid multipart form body: {e.Message}");
        }
        foreach (var (k, values) in form)
            foreach (var v in values)
            {
                if (v is null) continue;
                if (fields.Count >= FormDecoder.MaxFields)
                    throw new ApiException(ApiErrorType.BadData,
                        $"too many parameters: more than {FormDecoder.MaxFields} fields in the query string and form body together");
                FormDecoder.CheckDecoded(k, v);
                fields.Add(new(k, v));
            }
    }

    /// <summary>The first value of a parameter, or null when absent (Go's FormValue gives "" for absent).</summary>
    public string? Get(string name) => _params.TryGetValue(name, out var l) && l.Count > 0 ? l[0] : null;

    public IReadOnlyList<string> GetAll(string name) => _params.TryGetValue(name, out var l) ? l : [];

    public string RouteName => Get("__route_name") ?? "";
}
