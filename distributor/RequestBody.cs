using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Amphora.Distributor;

/// <summary>
/// A request body read into a buffer rented from <see cref="ArrayPool{T}.Shared"/>, never more than a limit: reading stops one
/// byte past it, so a body over the limit costs the limit, not what the sender declared or sent. The owner disposes it.
/// </summary>
public sealed class RequestBody : IDisposable
{
    private byte[] _buffer;

    private RequestBody(byte[] buffer, int length, bool tooLarge)
    {
        _buffer = buffer;
        Length = length;
        TooLarge = tooLarge;
    }

    public int Length { get; }

    /// <summary>True when the body is longer than the limit; the bytes read so far are then not the whole body.</summary>
    public bool TooLarge { get; }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    public static Task<RequestBody> ReadAsync(HttpRequest request, long limit, CancellationToken ct) =>
        ReadAsync(request.Body, request.ContentLength, limit, ct);

    public static async Task<RequestBody> ReadAsync(Stream body, long? declared, long limit, CancellationToken ct)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit, declared ?? 64 * 1024) + 1);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (buffer.Length > limit) return new RequestBody(buffer, length, tooLarge: true);
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1, buffer.Length * 2L));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                int n = await body.ReadAsync(buffer.AsMemory(length), ct);
                if (n == 0) return new RequestBody(buffer, length, tooLarge: length > limit);
                length += n;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
