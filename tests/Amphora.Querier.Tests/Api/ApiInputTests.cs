using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Amphora.Querier.Tests.Support;
using Xunit;

namespace Amphora.Querier.Tests.Api;

/// <summary>
/// Issue 13, finding 10 (query side): inputs that were answered 500 with an empty body are 400 bad_data naming the
/// parameter or the limit, on every endpoint of the query API (served the same way by --target=all and the querier).
/// </summary>
public sealed class ApiInputTests : IAsyncLifetime
{
    private ApiServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiServer.StartAsync(MemoryStorage.Sample());
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private const string Prefix = "/workspaces/ws-a/api/v1/";

    /// <summary>Each endpoint with its other parameters valid, so only the one under test can be wrong.</summary>
    public static TheoryData<string, string> Endpoints() => new()
    {
        { "query", "time=60&query=" },
        { "query_range", "start=0&end=600&step=60&query=" },
        { "series", "match[]=" },
        { "labels", "match[]=" },
        { "label/job/values", "match[]=" },
    };

    internal static async Task<(int Status, JsonElement Body)> ReadAsync(HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.False(string.IsNullOrEmpty(text), $"{(int)response.StatusCode} with an empty body");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>A GET with the query string sent byte for byte (System.Uri would re-escape a malformed <c>%zz</c>).</summary>
    private async Task<(int Status, JsonElement Body)> GetAsync(string pathAndQuery)
    {
        var uri = new Uri(_server.Http.BaseAddress + Prefix.TrimStart('/') + pathAndQuery,
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var response = await _server.Http.GetAsync(uri);
        return await ReadAsync(response);
    }

    private async Task<(int Status, JsonElement Body)> PostAsync(string endpoint, HttpContent content)
    {
        using var response = await _server.Http.PostAsync(Prefix + endpoint, content);
        return await ReadAsync(response);
    }

    private static StringContent Form(string encoded) =>
        new(encoded, Encoding.ASCII, new MediaTypeHeaderValue("application/x-www-form-urlencoded"));

    private static void AssertBadData((int Status, JsonElement Body) answer, params string[] contains)
    {
        Assert.Equal(400, answer.Status);
        Assert.Equal("error", answer.Body.GetProperty("status").GetString());
        Assert.Equal("bad_data", answer.Body.GetProperty("errorType").GetString());
        string error = answer.Body.GetProperty("error").GetString()!;
        foreach (var c in contains) Assert.Contains(c, error);
    }

    [Theory]
    [InlineData("0xffffffffffffffffffff", "error parsing number: strconv.ParseFloat: parsing \"0xffffffffffffffffffff\": invalid syntax")]
    [InlineData("1e999", "value out of range")]
    [InlineData("rate(up[99999999999999y])", "duration out of range")]
    [InlineData("\"\\U00110000\"", "escape sequence is an invalid Unicode code point")]
    public async Task A_literal_that_does_not_fit_is_400_bad_data(string query, string message)
    {
        AssertBadData(await GetAsync("query?time=60&query=" + Uri.EscapeDataString(query)), "invalid parameter \"query\"", message);
        AssertBadData(await PostAsync("query_range", Form("start=0&end=600&step=60&query=" + Uri.EscapeDataString(query))), message);
    }

    [Theory]
    [InlineData("99999999999999y")]
    [InlineData("1e300")]
    public async Task A_step_that_overflows_is_400_bad_data(string step) =>
        AssertBadData(await GetAsync($"query_range?start=0&end=600&query=up&step={step}"), "invalid parameter \"step\"");

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_NUL_in_a_parameter_is_400_naming_it(string endpoint, string parameters)
    {
        string name = parameters.EndsWith("match[]=") ? "match[]" : "query";
        AssertBadData(await GetAsync($"{endpoint}?{parameters}up%00"), $"invalid parameter \"{name}\"", "NUL");
        AssertBadData(await PostAsync(endpoint, Form($"{parameters}up%00")), $"invalid parameter \"{name}\"", "NUL");
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Invalid_UTF_8_in_a_parameter_is_400_naming_it(string endpoint, string parameters)
    {
        string name = parameters.EndsWith("match[]=") ? "match[]" : "query";
        AssertBadData(await GetAsync($"{endpoint}?{parameters}up%FF"), $"invalid parameter \"{name}\"", "not valid UTF-8");
        AssertBadData(await PostAsync(endpoint, Form($"{parameters}%C3%28")), $"invalid parameter \"{name}\"", "not valid UTF-8");
        AssertBadData(await GetAsync($"{endpoint}?{parameters}up&time%FF=1"), "invalid parameter name in the query string", "not valid UTF-8");
    }

    [Fact]
    public async Task A_malformed_percent_escape_is_400_naming_the_parameter()
    {
        AssertBadData(await GetAsync("query?query=up%zz"), "invalid parameter \"query\"", "invalid URL escape \"%zz\"");
        AssertBadData(await PostAsync("query", Form("query=up%2")), "invalid parameter \"query\"", "invalid URL escape \"%2\"");
    }

    [Fact]
    public async Task Valid_UTF_8_and_plus_signs_decode_as_before()
    {
        var answer = await GetAsync("query?time=60&query=" + Uri.EscapeDataString("label_replace(vector(1), \"x\", \"é ✓\", \"\", \"\")").Replace("%20", "+"));
        Assert.Equal(200, answer.Status);
        Assert.Equal("é ✓", answer.Body.GetProperty("data").GetProperty("result")[0].GetProperty("metric").GetProperty("x").GetString());
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_form_body_over_10_MiB_is_400_naming_the_limit(string endpoint, string parameters)
    {
        // 11 MiB of a harmless parameter after valid ones.
        string body = parameters + "up&pad=" + new string('a', 11 << 20);
        AssertBadData(await PostAsync(endpoint, Form(body)), "form body too large", "10 MiB");
    }

    [Fact]
    public async Task A_form_body_without_a_declared_length_over_10_MiB_is_400_naming_the_limit()
    {
        var content = new StreamContent(new MemoryStream(Encoding.ASCII.GetBytes("query=up&pad=" + new string('a', 11 << 20))));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        using var request = new HttpRequestMessage(HttpMethod.Post, Prefix + "query") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await _server.Http.SendAsync(request);
        AssertBadData(await ReadAsync(response), "form body too large");
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task More_than_1024_form_fields_is_400_naming_the_limit(string endpoint, string parameters)
    {
        string body = parameters + "up" + string.Concat(Enumerable.Range(0, 1100).Select(i => $"&f{i}=1"));
        AssertBadData(await PostAsync(endpoint, Form(body)), "too many parameters", "1024");
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_form_value_over_4_MiB_is_400_naming_the_parameter_and_the_limit(string endpoint, string parameters)
    {
        string name = parameters.EndsWith("match[]=") ? "match[]" : "query";
        string body = parameters + "up" + new string(' ', (4 << 20) + 10);
        AssertBadData(await PostAsync(endpoint, Form(body)), $"invalid parameter \"{name}\"", "4 MiB");
    }

    [Fact]
    public async Task A_multipart_form_over_the_limits_is_400_naming_the_limit()
    {
        var many = new MultipartFormDataContent();
        many.Add(new StringContent("up"), "query");
        for (int i = 0; i < 1100; i++) many.Add(new StringContent("1"), "f" + i);
        AssertBadData(await PostAsync("query", many), "invalid multipart form body", "1024");

        var nul = new MultipartFormDataContent { { new StringContent("up\0"), "query" } };
        AssertBadData(await PostAsync("query", nul), "invalid parameter \"query\"", "NUL");

        var fine = new MultipartFormDataContent { { new StringContent("1+1"), "query" }, { new StringContent("60"), "time" } };
        var answer = await PostAsync("query", fine);
        Assert.Equal(200, answer.Status);
        Assert.Equal("2", answer.Body.GetProperty("data").GetProperty("result")[1].GetString());
    }

    [Fact]
    public async Task An_unexpected_error_is_a_500_in_prometheus_shape_and_logged_once()
    {
        await using var server = await ApiServer.StartAsync(new MemoryStorage { Fault = new InvalidOperationException("disk on fire") });
        using var response = await server.Http.GetAsync(Prefix + "series?match[]=up");
        var (status, body) = await ReadAsync(response);
        Assert.Equal(500, status);
        Assert.Equal("error", body.GetProperty("status").GetString());
        Assert.Equal("internal", body.GetProperty("errorType").GetString());
        Assert.Contains("disk on fire", body.GetProperty("error").GetString());
        Assert.Single(server.Logs.Errors, e => e.Contains("InvalidOperationException"));
    }
}
