using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Amphora.Server.Config;

/// <summary>
/// Parses HOST:PORT listen addresses: an IPv4 address, an IPv6 address in brackets (<c>[::1]:9009</c>), or <c>localhost</c>.
/// An IPv4-mapped IPv6 address (<c>[::ffff:127.0.0.1]</c>) is taken as the IPv4 address it maps, which is what a socket can
/// bind (binding the mapped form fails with EINVAL); so <c>[::ffff:127.0.0.1]</c> is loopback.
/// </summary>
public static class ListenAddress
{
    public static bool TryParse(string text, out IPEndPoint endpoint, out string error)
    {
        endpoint = new IPEndPoint(IPAddress.Loopback, 0);
        int colon = text.LastIndexOf(':');
        if (colon <= 0) { error = "expected HOST:PORT (an IPv6 address goes in brackets: [::1]:9009)"; return false; }
        string host = text[..colon], portText = text[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            error = "the port must be a number from 0 to 65535";
            return false;
        }
        bool bracketed = host.StartsWith('[') && host.EndsWith(']');
        if (bracketed) host = host[1..^1];
        else if (host.Contains(':') || host.Contains('[') || host.Contains(']'))
        {
            error = $"\"{host}\" is not an IPv4 address or localhost; write an IPv6 address in brackets, as [::1]:9009";
            return false;
        }
        IPAddress? address;
        if (!bracketed && host == "localhost") address = IPAddress.Loopback;
        else if (host.Contains('[') || host.Contains(']') || !IPAddress.TryParse(host, out address)
                 || (bracketed != (address.AddressFamily == AddressFamily.InterNetworkV6)))
        {
            error = bracketed ? $"\"[{host}]\" is not an IPv6 address" : $"\"{host}\" is not an IP address or localhost";
            return false;
        }
        if (!bracketed && host != "localhost" && host.Count(c => c == '.') != 3)
        {
            error = $"\"{host}\" is not a dotted IPv4 address (a.b.c.d)";
            return false;
        }
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        endpoint = new IPEndPoint(address, port);
        error = "";
        return true;
    }

    public static bool IsLoopback(IPEndPoint endpoint) => IPAddress.IsLoopback(endpoint.Address);
}
