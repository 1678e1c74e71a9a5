using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Google.Protobuf;

namespace Amphora.Rpc;

/// <summary>
/// The gRPC-over-HTTP/2 framing shared by server and client: 5-byte length-prefixed messages (a compressed flag and a
/// big-endian length), <c>grpc-timeout</c> values, and the percent-encoding of <c>grpc-message</c>.
/// </summary>
public static class GrpcWire
{
    public const string ContentType = "application/grpc";
    public const int DefaultMaxMessageSize = 4 << 20;

    /// <summary>Writes one message with its prefix.</summary>
    public static async ValueTask WriteMessageAsync(Stream stream, IMessage message, int maxSize, CancellationToken ct)
    {
        int size = message.CalculateSize();
        if (size > maxSize)
            throw new RpcException(StatusCode.ResourceExhausted, $"message of {size} bytes is larger than the limit of {maxSize} bytes");
        var buffer = new byte[5 + size];
        buffer[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(1), (uint)size);
        message.WriteTo(buffer.AsSpan(5));
        await stream.WriteAsync(buffer, ct);
    }

    /// <summary>Reads the next message, or returns default at a clean end of stream.</summary>
    public static async ValueTask<T?> ReadMessageAsync<T>(PipeReader reader, MessageParser<T> parser, int maxSize, CancellationToken ct)
        where T : class, IMessage<T>
    {
        var header = new byte[5];
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            if (buffer.Length >= 5)
            {
                buffer.Slice(0, 5).CopyTo(header);
                if (header[0] != 0)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new RpcException(StatusCode.Unimplemented, "compressed messages are not supported (use grpc-encoding identity)");
                }
                uint length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
                if (length > maxSize)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new RpcException(StatusCode.ResourceExhausted, $"message of {length} bytes is larger than the limit of {maxSize} bytes");
                }
                if (buffer.Length >= 5 + length)
                {
                    var payload = buffer.Slice(5, length);
                    T message;
                    try
                    {
                        message = parser.ParseFrom(payload);
                    }
                    catch (InvalidProtocolBufferException e)
                    {
                        reader.AdvanceTo(buffer.Start);
                        throw new RpcException(StatusCode.Internal, "cannot decode the message: " + e.Message);
                    }
                    reader.AdvanceTo(payload.End);
                    return message;
                }
            }
            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (buffer.Length == 0) return null;
                throw new RpcException(StatusCode.Internal, "the stream ended inside a message");
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Parses <c>grpc-timeout</c>: up to 8 digits and a unit H, M, S, m (ms), u (µs) or n (ns).</summary>
    public static bool TryParseTimeout(string? value, out TimeSpan timeout)
    {
        timeout = default;
        if (string.IsNullOrEmpty(value) || value.Length < 2 || value.Length > 9) return false;
        if (!long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long n)) return false;
        timeout = value[^1] switch
        {
            'H' => TimeSpan.FromHours(n),
            'M' => TimeSpan.FromMinutes(n),
            'S' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMilliseconds(n),
            'u' => TimeSpan.FromTicks(n * 10),
            'n' => TimeSpan.FromTicks(n / 100),
            _ => TimeSpan.MinValue,
        };
        return timeout != TimeSpan.MinValue;
    }

    /// <summary>Formats a timeout with the coarsest unit that keeps it within 8 digits.</summary>
    public static string FormatTimeout(TimeSpan timeout)
    {
        long ms = Math.Max(1, (long)Math.Ceiling(timeout.TotalMilliseconds));
        if (ms < 100_000_000) return ms.ToString(CultureInfo.InvariantCulture) + "m";
        long s = (long)Math.Ceiling(timeout.TotalSeconds);
        if (s < 100_000_000) return s.ToString(CultureInfo.InvariantCulture) + "S";
        return Math.Min(99_999_999, (long)Math.Ceiling(timeout.TotalHours)).ToString(CultureInfo.InvariantCulture) + "H";
    }

    /// <summary>Percent-encodes a status message: bytes outside printable ASCII, and '%', become %XX of their UTF-8.</summary>
    public static string EncodeMessage(string message)
    {
        var sb = new StringBuilder(message.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7e && b != (byte)'%') sb.Append((char)b);
            else sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    public static string DecodeMessage(string? encoded)
    {
        if (string.IsNullOrEmpty(encoded)) return "";
        var bytes = new List<byte>(encoded.Length);
        for (int i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] == '%' && i + 2 < encoded.Length &&
                byte.TryParse(encoded.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(encoded[i].ToString()));
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
