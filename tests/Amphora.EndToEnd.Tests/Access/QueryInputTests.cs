using System.Net;
using System.Text;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Access;

/// <summary>
/// Issue 13, finding 10 against a real amphora process (--target=all; the querier serves the same API code): literals that
/// do not fit, NUL and invalid UTF-8 in parameters and oversized forms are 400 bad_data with a JSON body, not an empty 500.
/// </summary>
public sealed class QueryInputTests(AmphoraFixture amphora) : IClassFixture<AmphoraFixture>
{
    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpRequestMessage request)
    {
        using var http = new HttpClient { BaseAddress = amphora.Process.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var response = await http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.False(string.IsNullOrEmpty(text), $"{(int)response.StatusCode} with an empty body for {request.RequestUri}");
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static void AssertBadData((HttpStatusCode Status, JsonElement Body) answer, string contains)
    {
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("bad_data", answer.Body.GetProperty("errorType").GetString());
        Assert.Contains(contains, answer.Body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("query?query=0xffffffffffffffffffff", "error parsing number")]
    [InlineData("query?query=rate(x%5B99999999999999y%5D)", "duration out of range")]
    [InlineData("query?query=up%00", "NUL")]
    [InlineData("query?query=up%FF", "not valid UTF-8")]
    [InlineData("query_range?start=0&end=60&step=15&query=%FF", "not valid UTF-8")]
    [InlineData("series?match[]=up%00", "NUL")]
    [InlineData("labels?match[]=%C3%28", "not valid UTF-8")]
    [InlineData("label/job/values?match[]=up%00", "NUL")]
    public async Task A_bad_parameter_is_400_bad_data(string pathAndQuery, string contains) =>
        AssertBadData(await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/workspaces/default/api/v1/" + pathAndQuery)), contains);

    [Theory]
    [InlineData(1100, 1, "1024")]
    [InlineData(1, 5 << 20, "4 MiB")]
    [InlineData(1, 11 << 20, "10 MiB")]
    public async Task An_oversized_form_is_400_bad_data_naming_the_limit(int fields, int valueLength, string contains)
    {
        var body = new StringBuilder("query=up");
        for (int i = 0; i < fields; i++) body.Append("&f").Append(i).Append('=').Append('a', valueLength);
        var request = new HttpRequestMessage(HttpMethod.Post, "/workspaces/default/api/v1/query")
        {
            Content = new StringContent(body.ToString(), Encoding.ASCII, "application/x-www-form-urlencoded"),
        };
        AssertBadData(await SendAsync(request), contains);
    }
}
