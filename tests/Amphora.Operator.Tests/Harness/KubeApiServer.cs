using System.Net;
using System.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Amphora.EndToEnd.Tests.Harness;
using k8s;

namespace Amphora.Operator.Tests.Harness;

/// <summary>
/// A real kube-apiserver with its etcd, started the way ../shared/kubernetes/start.sh does: loopback only, a self-signed CA
/// and serving certificate, a service-account signing key, an admin bearer token in system:masters, RBAC. The binaries come
/// from <c>KUBEBUILDER_ASSETS</c> (the envtest layout: kube-apiserver and etcd in one folder). The API server can be
/// restarted on the same port and etcd, which breaks every watch.
/// </summary>
public sealed class KubeApiServer : IDisposable
{
    private readonly string _dir;
    private readonly string _assets;
    private ChildProcess? _etcd;
    private ChildProcess? _apiServer;
    private readonly int _etcdPort;
    private readonly int _etcdPeerPort;

    public int Port { get; }
    public string Token { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
    public X509Certificate2 CaCertificate { get; }
    public string KubeconfigPath { get; }
    public Uri Url => new($"https://127.0.0.1:{Port}");

    private KubeApiServer(string assets)
    {
        _assets = assets;
        _dir = RepoPaths.NewTempDir("kube-api");
        Port = FreePort.Next();
        _etcdPort = FreePort.Next();
        _etcdPeerPort = FreePort.Next();
        CaCertificate = WritePki(Path.Combine(_dir, "pki"), Token);
        KubeconfigPath = Path.Combine(_dir, "kubeconfig");
        File.WriteAllText(KubeconfigPath, $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: local
              cluster:
                server: {{Url}}
                certificate-authority-data: {{Convert.ToBase64String(Encoding.ASCII.GetBytes(CaCertificate.ExportCertificatePem()))}}
            users:
            - name: admin
              user:
                token: {{Token}}
            contexts:
            - name: local
              context: {cluster: local, user: admin, namespace: default}
            current-context: local
            """);
    }

    public static async Task<KubeApiServer> StartAsync(string assets)
    {
        var server = new KubeApiServer(assets);
        try
        {
            await server.StartEtcdAsync();
            await server.StartApiServerAsync();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    public IKubernetes NewClient() => new Kubernetes(new KubernetesClientConfiguration
    {
        Host = Url.ToString(),
        AccessToken = Token,
        SslCaCerts = [X509CertificateLoader.LoadCertificate(CaCertificate.RawData)],
    });

    /// <summary>
    /// Stops the API server (SIGKILL, so watches break without a goodbye) and starts it again on the same port and etcd,
    /// after <paramref name="downFor"/> if given (an outage that outlasts a Lease's renew deadline).
    /// </summary>
    public async Task RestartApiServerAsync(TimeSpan? downFor = null)
    {
        _apiServer?.Dispose();
        if (downFor is { } outage) await Task.Delay(outage);
        await StartApiServerAsync();
    }

    private async Task StartEtcdAsync()
    {
        string etcd = Path.Combine(_assets, "etcd");
        _etcd = new ChildProcess(etcd,
        [
            "--name", "k8s-test", "--data-dir", Path.Combine(_dir, "etcd"),
            "--listen-client-urls", $"http://127.0.0.1:{_etcdPort}", "--advertise-client-urls", $"http://127.0.0.1:{_etcdPort}",
            "--listen-peer-urls", $"http://127.0.0.1:{_etcdPeerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{_etcdPeerPort}",
            "--initial-cluster", $"k8s-test=http://127.0.0.1:{_etcdPeerPort}", "--initial-cluster-state", "new",
            "--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn",
        ], _dir);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await WaitAsync(_etcd, "etcd", async () => (await http.GetStringAsync($"http://127.0.0.1:{_etcdPort}/health")).Contains("\"health\":\"true\""));
    }

    private async Task StartApiServerAsync()
    {
        string pki = Path.Combine(_dir, "pki");
        _apiServer = new ChildProcess(Path.Combine(_assets, "kube-apiserver"),
        [
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", $"--secure-port={Port}",
            $"--cert-dir={pki}", $"--tls-cert-file={pki}/apiserver.crt", $"--tls-private-key-file={pki}/apiserver.key",
            $"--client-ca-file={pki}/ca.crt", $"--etcd-servers=http://127.0.0.1:{_etcdPort}",
            "--service-cluster-ip-range=10.0.0.0/24", $"--service-account-issuer=https://127.0.0.1:{Port}",
            $"--service-account-key-file={pki}/sa.pub", $"--service-account-signing-key-file={pki}/sa.key",
            $"--token-auth-file={pki}/tokens.csv", "--authorization-mode=RBAC", "--allow-privileged=true", "--profiling=false",
        ], _dir);
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert is not null && ChainsToCa(cert),
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        await WaitAsync(_apiServer, "kube-apiserver", async () => await http.GetStringAsync(new Uri(Url, "/readyz")) == "ok");
    }

    private bool ChainsToCa(X509Certificate2 cert)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(CaCertificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(cert);
    }

    private static async Task WaitAsync(ChildProcess process, string what, Func<Task<bool>> ready)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"{what} exited with {process.ExitCode}:\n{process.Output}");
            try
            {
                if (await ready()) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{what} not ready in 90s:\n{process.Output}");
    }

    private static X509Certificate2 WritePki(string dir, string token)
    {
        Directory.CreateDirectory(dir);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=local-test-kubernetes-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=kube-apiserver", serverKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        san.AddDnsName("kubernetes.default.svc");
        request.CertificateExtensions.Add(san.Build());
        using var serverCert = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(16));

        using var sa = RSA.Create(2048);
        File.WriteAllText(Path.Combine(dir, "ca.crt"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "apiserver.crt"), serverCert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "apiserver.key"), serverKey.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(dir, "sa.key"), sa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(dir, "sa.pub"), sa.ExportSubjectPublicKeyInfoPem());
        File.WriteAllText(Path.Combine(dir, "tokens.csv"), $"{token},admin,admin-uid,\"system:masters\"\n");
        return X509CertificateLoader.LoadCertificate(ca.RawData);
    }

    public void Dispose()
    {
        _apiServer?.Dispose();
        _etcd?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
