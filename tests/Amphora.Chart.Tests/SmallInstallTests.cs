using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.Chart.Tests;

/// <summary>
/// The small install as the chart renders it, run as one process per component on this machine: the rendered arguments
/// with the pods' names mapped to 127.0.0.1 through <c>--ring.members</c>, the Secrets as files. Remote write goes in
/// through the distributor and comes out of the querier.
/// </summary>
[Trait("SharedAssets", "chart-render")]
public sealed class SmallInstallTests
{
    [SkippableFact]
    public async Task The_small_install_takes_a_remote_write_and_answers_a_query()
    {
        var r = await ChartRenderer.RenderAsync(["small-values.yaml"]);
        Assert.True(r.ExitCode == 0, r.Errors);
        using var mounts = new PodMounts(r);
        var sts = r.Objects.Single(o => o is { Kind: "StatefulSet", Name: "amphora-ingester" });
        string headless = sts.Path("spec", "serviceName")!.ToString();
        int grpcPort = FreePort.Next();
        string ingesterHost = $"amphora-ingester-0.{headless}.obs.svc.cluster.local:9095";

        var processes = new List<(string Name, ChildProcess Process, int Port)>();
        try
        {
            foreach (var name in new[] { "amphora-ingester", "amphora-distributor", "amphora-querier", "amphora-compactor" })
            {
                var workload = r.Objects.Single(o => o.Kind is "Deployment" or "StatefulSet" && o.Name == name);
                int port = FreePort.Next();
                var args = mounts.Map(workload.Containers().Single().Args, $"{name}-0")
                    .Select(a => a.StartsWith("--listen=", StringComparison.Ordinal) ? $"--listen=127.0.0.1:{port}"
                        : a.StartsWith("--grpc.listen=", StringComparison.Ordinal) ? $"--grpc.listen=127.0.0.1:{grpcPort}"
                        : a.Replace(ingesterHost, $"127.0.0.1:{grpcPort}", StringComparison.Ordinal))
                    .Append("--tsdb.cut-interval=5s")
                    .ToList();
                Assert.Contains(args, a => a.StartsWith("--ring.members=", StringComparison.Ordinal) || name == "amphora-compactor");
                var process = new ChildProcess("dotnet", [RepoPaths.AmphoraDll, .. args]);
                processes.Add((name, process, port));
                await WaitReadyAsync(name, process, port);
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.ASCII.GetBytes($"{mounts.AdminKeyId}:{mounts.AdminSecret}")));
            int distributor = processes.Single(p => p.Name == "amphora-distributor").Port;
            int querier = processes.Single(p => p.Name == "amphora-querier").Port;

            // Each component keeps its own workspaces and keys today (they are not yet shared through the bucket), so a
            // workspace created through one component's control plane is unknown to the others. The workspace every
            // component has is "default", which each creates on its first start; the admin key from the chart's Secret
            // (--auth.admin-key-file) holds every action on every workspace of every component.
            const string workspace = "default";

            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var body = IronSnappy.Snappy.Encode(new WriteRequestBuilder()
                .Series("__name__=\"chart_up\",job=\"small\"", (now - 2000, 1), (now - 1000, 2)).Encode());
            HttpStatusCode written = 0;
            string writeBody = "";
            await Eventually.HoldsAsync(async () =>
            {
                // Until the distributor's ring has seen the ingester ACTIVE, a write is refused with 5xx.
                using var req = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{distributor}/workspaces/{workspace}/api/v1/remote_write")
                    { Content = new ByteArrayContent(body) };
                req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
                req.Content.Headers.ContentEncoding.Add("snappy");
                using var resp = await http.SendAsync(req);
                written = resp.StatusCode;
                writeBody = await resp.Content.ReadAsStringAsync();
                return written == HttpStatusCode.NoContent;
            }, () => $"remote write accepted (last {written}: {writeBody})", TimeSpan.FromSeconds(40));

            string answer = "";
            await Eventually.HoldsAsync(async () =>
            {
                using var resp = await http.GetAsync(
                    $"http://127.0.0.1:{querier}/workspaces/{workspace}/api/v1/query?query=sum(chart_up)&time={now / 1000.0:F3}");
                answer = $"{(int)resp.StatusCode} {await resp.Content.ReadAsStringAsync()}";
                return resp.IsSuccessStatusCode && answer.Contains("\"2\"", StringComparison.Ordinal);
            }, () => $"the querier answers sum(chart_up) = 2 (last: {answer})", TimeSpan.FromSeconds(40));
        }
        finally
        {
            foreach (var (_, p, _) in processes) p.Dispose();
        }
    }

    private static async Task WaitReadyAsync(string name, ChildProcess process, int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) Assert.Fail($"{name} exited with {process.ExitCode}:\n{process.Output}");
            try
            {
                using var resp = await http.GetAsync($"http://127.0.0.1:{port}/ready");
                if (resp.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(200);
        }
        Assert.Fail($"{name} not ready within 60 s:\n{process.Output}");
    }
}
