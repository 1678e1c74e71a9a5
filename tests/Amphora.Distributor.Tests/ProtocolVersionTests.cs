using System.Net;
using System.Net.Http.Headers;
using Amphora.EndToEnd.Tests.Harness;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Amphora.Distributor.Tests;

/// <summary>
/// What the receiver does not store yet is refused, never acknowledged and dropped (issue 13, finding 9): a message other
/// than remote write 1.0 or 2.0 gets 415 so senders fall back, native histograms in a 1.0 request get 400 naming them while
/// the floats are kept.
/// </summary>
public sealed class ProtocolVersionTests : IAsyncLifetime
{
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private readonly RecordingPush _push = new();
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapRemoteWrite(Distributors.Create(_push));
        await _app.StartAsync();
        string address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _http = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string contentType, WriteRequestBuilder request)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/push")
        {
            Content = new ByteArrayContent(Distributors.Snappy(request.Encode())),
        };
        req.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        req.Content.Headers.ContentEncoding.Add("snappy");
        req.Headers.Add("X-Scope-OrgID", "ws-proto");
        using var resp = await _http.SendAsync(req);
        return (resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("application/x-protobuf;proto=something.Else")]
    [InlineData("application/x-protobuf; proto=\"io.prometheus.write.v3.Request\"")]
    public async Task A_message_other_than_remote_write_1_0_or_2_0_gets_415_so_the_sender_falls_back(string contentType)
    {
        var (status, body) = await PostAsync(contentType, new WriteRequestBuilder().Series("__name__=\"rw2\"", (Now, 1)));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Contains("unsupported remote write message", body);
        Assert.Contains("prometheus.WriteRequest (remote write 1.0) and io.prometheus.write.v2.Request (remote write 2.0)", body);
        Assert.Equal(0, _push.Pushes);
    }

    [Theory]
    [InlineData("application/x-protobuf")]
    [InlineData("application/x-protobuf;proto=prometheus.WriteRequest")]
    public async Task A_remote_write_1_0_request_is_accepted_with_or_without_the_proto_parameter(string contentType)
    {
        var (status, _) = await PostAsync(contentType, new WriteRequestBuilder().Series("__name__=\"rw1\"", (Now, 1)));
        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Single(_push.Series);
    }

    [Fact]
    public async Task Native_histograms_in_a_1_0_request_get_400_naming_them_and_the_float_samples_are_kept()
    {
        var request = new WriteRequestBuilder()
            .Series("__name__=\"floats\",a=\"1\"", (Now, 1))
            .HistogramSeries("__name__=\"latency\",a=\"1\"", [Now, Now + 1000]);
        var (status, body) = await PostAsync("application/x-protobuf", request);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(DistributorService.NativeHistogramsId, body);
        Assert.Contains("native histogram", body);
        Assert.Contains("latency", body);
        var stored = Assert.Single(_push.Series);
        Assert.Equal("floats", stored.Labels.Get("__name__"));
    }

    [Fact]
    public async Task A_series_with_both_floats_and_histograms_keeps_its_floats_and_refuses_the_histograms()
    {
        var request = new WriteRequestBuilder().HistogramSeries("__name__=\"mixed\"", [Now], (Now, 7));
        var (status, body) = await PostAsync("application/x-protobuf", request);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(DistributorService.NativeHistogramsId, body);
        var stored = Assert.Single(_push.Series);
        Assert.Equal([7.0], stored.Values);
    }
}
