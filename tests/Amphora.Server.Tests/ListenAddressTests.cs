using System.Net;
using Amphora.Server.Config;
using Xunit;

namespace Amphora.Server.Tests;

/// <summary>Issue 13, finding 10: <c>--listen=[::ffff:127.0.0.1]:PORT</c> aborted the process; listen addresses are now validated.</summary>
public sealed class ListenAddressTests
{
    [Theory]
    [InlineData("[::ffff:127.0.0.1]:9009", "127.0.0.1")]
    [InlineData("[::FFFF:127.0.0.1]:9009", "127.0.0.1")]
    [InlineData("[::ffff:10.1.2.3]:9009", "10.1.2.3")]
    [InlineData("[::1]:9009", "::1")]
    [InlineData("127.0.0.1:9009", "127.0.0.1")]
    [InlineData("localhost:9009", "127.0.0.1")]
    public void An_IPv4_mapped_IPv6_address_is_taken_as_the_IPv4_address_a_socket_can_bind(string text, string address)
    {
        Assert.True(ListenAddress.TryParse(text, out var endpoint, out string error), error);
        Assert.Equal(IPAddress.Parse(address), endpoint.Address);
        Assert.Equal(9009, endpoint.Port);
    }

    [Fact]
    public void The_mapped_loopback_is_loopback_for_auth_none() =>
        Assert.Empty(ConfigLoader.Load(["--auth=none", "--listen=[::ffff:127.0.0.1]:9009"], out _).Validate());

    [Theory]
    [InlineData("::1:9009", "brackets")]
    [InlineData("[127.0.0.1]:9009", "not an IPv6 address")]
    [InlineData("[[::1]]:9009", "not an IPv6 address")]
    [InlineData("127.1:9009", "dotted")]
    [InlineData("[::1]:+9009", "port")]
    [InlineData("[::1]:99999", "port")]
    [InlineData("example.com:9009", "not an IP address")]
    [InlineData("9009", "HOST:PORT")]
    public void A_malformed_listen_address_is_a_start_up_error_naming_the_problem(string text, string expected)
    {
        var problem = Assert.Single(ConfigLoader.Load([$"--listen={text}"], out _).Validate());
        Assert.Contains("--listen", problem);
        Assert.Contains(expected, problem);
    }
}
