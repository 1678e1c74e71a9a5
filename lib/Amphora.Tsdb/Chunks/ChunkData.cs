namespace Amphora.Tsdb.Chunks;

/// <summary>An immutable chunk (XOR, histogram or float histogram: <see cref="Encoding"/>, the byte of its segment entry; header
/// included) with its first and last timestamps and sample count. A head chunk some of whose samples came with a start
/// timestamp keeps them beside the encoding in <see cref="StartTimestamps"/>, one per sample in order (0 = none); null for
/// the others, so chunks without start timestamps cost nothing more. The chunk formats have no place for them: a block's
/// chunks are written without them.</summary>
public sealed record ChunkData(byte[] Bytes, long MinT, long MaxT, int Count, byte Encoding = XorChunk.Encoding, long[]? StartTimestamps = null);
