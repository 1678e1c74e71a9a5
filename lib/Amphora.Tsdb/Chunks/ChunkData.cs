namespace Amphora.Tsdb.Chunks;

/// <summary>An immutable chunk (XOR, histogram or float histogram: <see cref="Encoding"/>, the byte of its segment entry; header
/// included) with its first and last timestamps and sample count.</summary>
public sealed record ChunkData(byte[] Bytes, long MinT, long MaxT, int Count, byte Encoding = XorChunk.Encoding);
