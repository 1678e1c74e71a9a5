using System.Net.Sockets;
using System.Text;

namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>
/// HTTP/1.1 written byte for byte over a socket, for requests HttpClient would normalise or refuse to send: dot segments,
/// backslashes and percent-encoded slashes in the path, NUL or control characters in a header.
/// </summary>
public static class RawHttp
{
    public sealed record Response(int Status, string Body);

    public static async Task<Response> SendAsync(int port, string method, string rawTarget, IEnumerable<(string Name, string Value)> headers,
        byte[]? body = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        var head = new StringBuilder($"{method} {rawTarget} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
        foreach (var (name, value) in headers) head.Append(name).Append(": ").Append(value).Append("\r\n");
        head.Append("Content-Length: ").Append(body?.Length ?? 0).Append("\r\n\r\n");
        await stream.WriteAsync(Encoding.Latin1.GetBytes(head.ToString()));
        if (body is not null) await stream.WriteAsync(body);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string text = await reader.ReadToEndAsync(timeout.Token);
        int status = text.Length >= 12 && int.TryParse(text.AsSpan(9, 3), out int s) ? s : 0;
        int split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return new Response(status, split < 0 ? "" : text[(split + 4)..]);
    }
}
