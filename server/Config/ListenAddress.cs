using System.Net;

namespace Amphora.Server.Config;

/// <summary>Parses HOST:PORT listen addresses (host may be an IP, [IPv6], or "localhost").</summary>
public static class ListenAddress
{
    public static bool TryParse(string text, out IPEndPoint endpoint, out string error)
    {
        endpoint = new IPEndPoint(IPAddress.Loopback, 0);
        int colon = text.LastIndexOf(':');
        if (colon <= 0) { error = "expected HOST:PORT"; return false; }
        string host = text[..colon].Trim('[', ']');
        if (!int.TryParse(text[(colon + 1)..], out int port) || port is < 0 or > 65535)
        {
            error = "the port must be a number from 0 to 65535";
            return false;
        }
        IPAddress? address;
        if (host == "localhost") address = IPAddress.Loopback;
        else if (!IPAddress.TryParse(host, out address)) { error = $"\"{host}\" is not an IP address or localhost"; return false; }
        endpoint = new IPEndPoint(address, port);
        error = "";
        return true;
    }

    public static bool IsLoopback(IPEndPoint endpoint) => IPAddress.IsLoopback(endpoint.Address);
}
