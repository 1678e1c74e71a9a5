namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>Debian's Prometheus (2.42) in its own temp dir on a free loopback port, with a config the test writes.</summary>
public sealed class PrometheusProcess : ChildProcess
{
    public int Port { get; }
    public string Dir { get; }
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    private PrometheusProcess(string dir, int port, IEnumerable<string> args) : base(RepoPaths.RequireProgram("prometheus", "prometheus"), args, dir)
    {
        Dir = dir;
        Port = port;
    }

    /// <summary>Starts Prometheus with <paramref name="configYaml"/>; <paramref name="extraArgs"/> adds flags such as the remote-write receiver.</summary>
    public static PrometheusProcess Start(string configYaml, int? port = null, params string[] extraArgs) =>
        StartOn(null, configYaml, port, extraArgs);

    /// <summary>Starts Prometheus scraping the exporter on <paramref name="targetPort"/> every second (job
    /// <paramref name="job"/>) and remote-writing what it scrapes to <paramref name="workspace"/> of <paramref name="amphora"/>
    /// at once; <paramref name="remoteWriteOption"/> is one more key of the remote_write entry, such as
    /// <c>send_exemplars: true</c>.</summary>
    public static PrometheusProcess ScrapingInto(AmphoraProcess amphora, string workspace, int targetPort, string job, string remoteWriteOption,
        params string[] extraArgs) =>
        Start($$"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: {{job}}
                static_configs: [{ targets: ['127.0.0.1:{{targetPort}}'] }]
            remote_write:
              - url: http://127.0.0.1:{{amphora.Port}}/workspaces/{{workspace}}/api/v1/remote_write
                {{remoteWriteOption}}
                queue_config: { batch_send_deadline: 200ms, min_backoff: 50ms, max_backoff: 1s }
            """, null, extraArgs);

    /// <summary>Starts Prometheus on an existing TSDB directory (blocks a test wrote), which the process does not delete.</summary>
    public static PrometheusProcess StartOnData(string dataDir, string configYaml, params string[] extraArgs) =>
        StartOn(dataDir, configYaml, null, extraArgs);

    private static PrometheusProcess StartOn(string? dataDir, string configYaml, int? port, string[] extraArgs)
    {
        string dir = RepoPaths.NewTempDir("prom-e2e");
        File.WriteAllText(Path.Combine(dir, "prometheus.yml"), configYaml);
        port ??= FreePort.Next();
        var args = new List<string>
        {
            $"--config.file={Path.Combine(dir, "prometheus.yml")}",
            $"--storage.tsdb.path={dataDir ?? Path.Combine(dir, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        };
        args.AddRange(extraArgs);
        return new PrometheusProcess(dir, port.Value, args);
    }

    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (HasExited) throw new InvalidOperationException($"prometheus exited with {ExitCode}:\n{Output}");
            try
            {
                if ((await http.GetAsync(new Uri(BaseAddress, "/-/ready"))).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"prometheus not ready in time:\n{Output}");
    }

    public override void Dispose()
    {
        base.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Debian's prometheus-node-exporter on a free loopback port.</summary>
public sealed class NodeExporterProcess : ChildProcess
{
    public int Port { get; }

    private NodeExporterProcess(int port) : base(RepoPaths.RequireProgram("prometheus-node-exporter", "prometheus-node-exporter"),
        [$"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"])
    {
        Port = port;
    }

    public static NodeExporterProcess Start() => new(FreePort.Next());
}
