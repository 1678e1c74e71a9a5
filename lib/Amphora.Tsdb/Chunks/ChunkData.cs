namespace Amphora.Tsdb.Chunks;

/// <summary>An immutable XOR chunk (count header included) with its first and last timestamps and sample count.</summary>
public sealed record ChunkData(byte[] Bytes, long MinT, long MaxT, int Count);
