using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Amphora.EndToEnd.Tests.Access;

/// <summary>
/// Issue 13 against a real amphora process: unauthenticated SigV4 requests with large bodies cost the server no memory
/// (finding 3), and a listen address in IPv4-mapped IPv6 form is served instead of aborting the process (finding 10).
/// </summary>
public sealed class HardeningTests(ITestOutputHelper output)
{
    private const long BodyBytes = 60_000_000;

    /// <summary>A 60 MB body streamed from one small buffer, with or without a declared length.</summary>
    private sealed class LargeBody(long length, bool declareLength) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var chunk = new byte[256 * 1024];
            for (long sent = 0; sent < length; sent += chunk.Length)
                await stream.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, length - sent)));
        }

        protected override bool TryComputeLength(out long n)
        {
            n = length;
            return declareLength;
        }
    }

    private static long RssBytes(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/PID/status");
    }

    private static HttpRequestMessage UnauthenticatedSigV4(string keyId, bool declareLength)
    {
        string amzDate = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'");
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/push") { Content = new LargeBody(BodyBytes, declareLength) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        request.Content.Headers.ContentEncoding.Add("snappy");
        request.Headers.TryAddWithoutValidation("Authorization",
            $"AWS4-HMAC-SHA256 Credential={keyId}/{amzDate[..8]}/us-east-1/aps/aws4_request, SignedHeaders=host;x-amz-date, " +
            $"Signature={new string('a', 64)}");
        request.Headers.Add("X-Amz-Date", amzDate);
        return request;
    }

    [Fact]
    public async Task Sixteen_unauthenticated_SigV4_requests_of_60_MB_leave_the_RSS_within_100_MB_of_where_it_started()
    {
        using var amphora = AmphoraProcess.Start(null, null, "--auth=keys");
        await amphora.WaitReadyAsync();
        string knownKey = AccessClient.BootstrapKey(amphora.DataDir).Id;
        using var http = new HttpClient { BaseAddress = amphora.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };

        async Task<string> SendAsync(string keyId, bool declareLength)
        {
            try
            {
                using var response = await http.SendAsync(UnauthenticatedSigV4(keyId, declareLength));
                return ((int)response.StatusCode).ToString();
            }
            catch (HttpRequestException)
            {
                return "closed"; // the server may close the connection instead of reading a body it refused
            }
        }

        // Warm up the path (JIT, pools), then measure from there.
        Assert.Equal("401", await SendAsync("AKIAUNKNOWNUNKNOWN00", declareLength: true));
        long start = RssBytes(amphora.Pid);
        long peak = start;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, RssBytes(amphora.Pid));
                try { await Task.Delay(50, sampling.Token); } catch (OperationCanceledException) { }
            }
        });

        var clock = Stopwatch.StartNew();
        // Unknown key ids, half with a declared Content-Length and half chunked.
        var unknown = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => SendAsync($"AKIAUNKNOWN{i:D9}", declareLength: i % 2 == 0)));
        long afterUnknown = RssBytes(amphora.Pid);
        // The bootstrap key's id with a wrong signature: refused by size (413) before any signature check, or, once the
        // bodies read for signatures not yet checked reach --auth.sigv4-max-unverified-bytes, with 503.
        var known = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => SendAsync(knownKey, declareLength: i % 2 == 0)));
        long afterKnown = RssBytes(amphora.Pid);
        sampling.Cancel();
        await sampler;

        output.WriteLine($"RSS at start {start / 1e6:0.0} MB; after 16 x 60 MB SigV4 requests with unknown keys {afterUnknown / 1e6:0.0} MB " +
                         $"({(afterUnknown - start) / 1e6:+0.0;-0.0} MB); after 16 more naming a real key with a bad signature " +
                         $"{afterKnown / 1e6:0.0} MB ({(afterKnown - start) / 1e6:+0.0;-0.0} MB); peak {peak / 1e6:0.0} MB; " +
                         $"{clock.Elapsed.TotalSeconds:0.0} s");
        output.WriteLine($"answers (unknown keys): {string.Join(",", unknown)}; (known key, bad signature): {string.Join(",", known)}");
        Assert.All(unknown, a => Assert.True(a is "401" or "closed", $"unknown key answered {a}"));
        Assert.All(known, a => Assert.True(a is "401" or "413" or "503" or "closed", $"bad signature answered {a}"));
        Assert.True(afterUnknown - start < 100_000_000, $"RSS grew by {(afterUnknown - start) / 1e6:0.0} MB");
        Assert.True(afterKnown - start < 100_000_000, $"RSS grew by {(afterKnown - start) / 1e6:0.0} MB");
        Assert.False(amphora.HasExited);
    }

    [Fact]
    public async Task An_IPv4_mapped_IPv6_loopback_listen_address_is_served_as_loopback()
    {
        int port = FreePort.Next();
        using var amphora = AmphoraProcess.Start(null, port, $"--listen=[::ffff:127.0.0.1]:{port}");
        await amphora.WaitReadyAsync();
        Assert.False(amphora.HasExited);
    }

    [Fact]
    public async Task A_listen_address_that_cannot_be_bound_is_a_start_up_error_naming_it_not_a_crash()
    {
        int port = FreePort.Next();
        // 192.0.2.1 (TEST-NET-1) is on no interface of this host: binding it fails.
        using var amphora = AmphoraProcess.Start(null, port, $"--listen=192.0.2.1:{port}", "--auth=keys");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await amphora.WaitForExitAsync(deadline.Token);
        Assert.Equal(1, amphora.ExitCode);
        Assert.Contains($"cannot listen on 192.0.2.1:{port}", amphora.Output);
        Assert.DoesNotContain("Unhandled exception", amphora.Output);
    }
}
