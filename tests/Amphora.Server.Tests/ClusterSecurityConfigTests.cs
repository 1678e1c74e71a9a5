using Amphora.Server.Config;
using Xunit;

namespace Amphora.Server.Tests;

/// <summary>Who may call an ingester's gRPC API: start-up refuses an open, unauthenticated listener and half-given TLS settings.</summary>
public sealed class ClusterSecurityConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("amphora-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    private static IReadOnlyList<string> Problems(params string[] args) => ConfigLoader.Load(args, out _).Validate();

    [Theory]
    [InlineData("0.0.0.0:9095")]
    [InlineData("10.0.0.7:9095")]
    [InlineData("[::]:9095")]
    public void An_ingester_on_a_non_loopback_grpc_address_without_a_secret_or_mutual_tls_does_not_start(string listen)
    {
        var problem = Assert.Single(Problems("--target=ingester", $"--grpc.listen={listen}"));
        Assert.Contains($"--grpc.listen={listen} is not a loopback address", problem);
        Assert.Contains("--cluster.secret-file", problem);
        Assert.Contains("--grpc.tls-client-ca-file", problem);
    }

    [Fact]
    public void A_loopback_ingester_needs_no_credentials_and_a_non_loopback_one_starts_with_a_secret()
    {
        Assert.Empty(Problems("--target=ingester", "--grpc.listen=127.0.0.1:9095"));
        string secret = File("secret", "0123456789abcdef0123456789abcdef\n");
        Assert.Empty(Problems("--target=ingester", "--grpc.listen=0.0.0.0:9095", $"--cluster.secret-file={secret}"));
        Assert.Empty(Problems("--target=distributor", "--ring.members=127.0.0.1:9095", $"--cluster.secret-file={secret}"));
    }

    [Fact]
    public void A_non_loopback_ingester_starts_with_mutual_tls()
    {
        string cert = File("cert.pem", "x"), key = File("key.pem", "x"), ca = File("ca.pem", "x");
        Assert.Empty(Problems("--target=ingester", "--grpc.listen=0.0.0.0:9095", $"--grpc.tls-cert-file={cert}", $"--grpc.tls-key-file={key}",
            $"--grpc.tls-client-ca-file={ca}"));
    }

    [Fact]
    public void A_short_or_missing_secret_file_is_refused_naming_the_flag()
    {
        var problem = Assert.Single(Problems("--target=ingester", $"--cluster.secret-file={File("short", "abc\n")}"));
        Assert.Contains("--cluster.secret-file", problem);
        Assert.Contains("16 to 4096 characters", problem);
        Assert.Contains("does not exist", Assert.Single(Problems($"--cluster.secret-file={Path.Combine(_dir, "none")}")));
    }

    [Theory]
    [InlineData("--grpc.tls-client-ca-file", "needs the ingester to serve TLS")]
    [InlineData("--ring.tls-cert-file", "--ring.tls-cert-file and --ring.tls-key-file go together")]
    public void Half_given_mutual_tls_settings_are_refused(string flag, string message)
    {
        string file = File("some.pem", "x");
        Assert.Contains(Problems("--target=ingester", $"{flag}={file}"), p => p.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_client_certificate_needs_the_ca_that_checks_the_ingesters()
    {
        string cert = File("c.pem", "x"), key = File("k.pem", "x");
        var problem = Assert.Single(Problems("--target=querier", "--ring.members=127.0.0.1:9095", $"--ring.tls-cert-file={cert}", $"--ring.tls-key-file={key}"));
        Assert.Contains("needs --ring.tls-ca-file", problem);
    }
}
