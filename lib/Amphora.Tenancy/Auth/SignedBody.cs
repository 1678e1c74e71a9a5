using System.Buffers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace Amphora.Tenancy.Auth;

/// <summary>
/// A request body read for its SigV4 payload hash, held in 64 KiB segments rented from the shared pool (no single large
/// array that the pool would keep), up to the endpoint's limit. The endpoint then reads it through <see cref="AsStream"/>;
/// <see cref="Dispose"/> returns every segment. Not thread-safe; owned by one request.
/// </summary>
public sealed class SignedBody : IDisposable
{
    private const int SegmentSize = 64 * 1024;
    private readonly List<byte[]> _segments = [];
    private readonly UnverifiedBodyBudget _budget;
    private long _reserved;

    private SignedBody(UnverifiedBodyBudget budget) => _budget = budget;

    public long Length { get; private set; }

    /// <summary>
    /// Reads the whole body, each segment reserved from <paramref name="budget"/> (shared by every request whose signature
    /// is not checked yet). Nothing is kept when the body is longer than <paramref name="limit"/>
    /// (<see cref="SignedBodyRead.TooLarge"/>) or the budget is spent (<see cref="SignedBodyRead.Busy"/>).
    /// </summary>
    public static async Task<(SignedBody? Body, SignedBodyRead Outcome)> ReadAsync(
        HttpRequest request, long limit, UnverifiedBodyBudget budget, CancellationToken ct)
    {
        if (request.ContentLength > limit) return (null, SignedBodyRead.TooLarge);
        var body = new SignedBody(budget);
        try
        {
            while (true)
            {
                int used = (int)(body.Length % SegmentSize);
                if (used == 0)
                {
                    if (!budget.TryReserve(SegmentSize))
                    {
                        body.Dispose();
                        return (null, SignedBodyRead.Busy);
                    }
                    body._reserved += SegmentSize;
                    body._segments.Add(ArrayPool<byte>.Shared.Rent(SegmentSize));
                }
                var segment = body._segments[^1];
                int n = await request.Body.ReadAsync(segment.AsMemory(used, SegmentSize - used), ct);
                if (n == 0) break;
                body.Length += n;
                if (body.Length > limit)
                {
                    body.Dispose();
                    return (null, SignedBodyRead.TooLarge);
                }
            }
            return (body, SignedBodyRead.Read);
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    /// <summary>The lowercase hex SHA-256 of the body.</summary>
    public string Sha256Hex()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long left = Length;
        foreach (var segment in _segments)
        {
            int n = (int)Math.Min(left, SegmentSize);
            hash.AppendData(segment, 0, n);
            left -= n;
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>A read-only stream over the body, valid until <see cref="Dispose"/>.</summary>
    public Stream AsStream() => new Reader(this);

    /// <summary>The signature matched: the body no longer counts against the budget of unverified bodies.</summary>
    public void Verified() => ReleaseReservation();

    public void Dispose()
    {
        foreach (var segment in _segments) ArrayPool<byte>.Shared.Return(segment);
        _segments.Clear();
        Length = 0;
        ReleaseReservation();
    }

    private void ReleaseReservation()
    {
        if (_reserved == 0) return;
        _budget.Release(_reserved);
        _reserved = 0;
    }

    private sealed class Reader(SignedBody body) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => body.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> destination)
        {
            int copied = 0;
            while (copied < destination.Length && _position < body.Length)
            {
                var segment = body._segments[(int)(_position / SegmentSize)];
                int at = (int)(_position % SegmentSize);
                int n = (int)Math.Min(Math.Min(SegmentSize - at, body.Length - _position), destination.Length - copied);
                segment.AsSpan(at, n).CopyTo(destination[copied..]);
                copied += n;
                _position += n;
            }
            return copied;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken ct = default) =>
            ValueTask.FromResult(Read(destination.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
