using Amphora.Server.Config;
using Xunit;

namespace Amphora.Server.Tests;

/// <summary>The operator's URLs are checked before it starts: each one an http(s) URL, named when it is not.</summary>
public sealed class OperatorConfigTests : IDisposable
{
    private readonly string _keyFile = Path.Combine(Path.GetTempPath(), $"amphora-admin-key-{Guid.NewGuid():N}.json");

    public OperatorConfigTests() =>
        File.WriteAllText(_keyFile, """{"accessKeyId": "OPERATORADMIN", "secretAccessKey": "0123456789abcdefghij0123"}""");

    private IReadOnlyList<string> Validate(params string[] extra) =>
        ConfigLoader.Load(["--target=operator", "--operator.amphora-url=http://amphora-querier:9009", $"--operator.admin-key-file={_keyFile}", .. extra], out _)
            .Validate();

    [Fact]
    public void Separate_public_and_remote_write_urls_are_valid_and_reach_the_options()
    {
        Assert.Empty(Validate("--operator.public-url=https://query.example.com", "--operator.remote-write-url=http://amphora-distributor.obs.svc:9009"));
        var c = ConfigLoader.Load(["--target=operator", "--operator.remote-write-url=http://amphora-distributor:9009"], out _);
        Assert.Equal("http://amphora-distributor:9009", c.OperatorRemoteWriteUrl);
    }

    [Theory]
    [InlineData("--operator.remote-write-url", "amphora-distributor:9009")]
    [InlineData("--operator.remote-write-url", "ftp://amphora-distributor")]
    [InlineData("--operator.public-url", "/relative")]
    public void A_url_that_is_not_http_is_refused_naming_the_flag(string flag, string value)
    {
        var problem = Assert.Single(Validate($"{flag}={value}"));
        Assert.Contains($"invalid {flag} \"{value}\"", problem);
    }

    public void Dispose() => File.Delete(_keyFile);
}
