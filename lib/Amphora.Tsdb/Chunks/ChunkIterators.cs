using Amphora.Storage;

namespace Amphora.Tsdb.Chunks;

/// <summary>The iterator for a chunk's encoding: XOR floats (1), histograms (2) or float histograms (3).</summary>
public static class ChunkIterators
{
    public static bool IsKnown(byte encoding) =>
        encoding is XorChunk.Encoding or HistogramChunk.Encoding or FloatHistogramChunk.Encoding;

    public static ISampleIterator For(ChunkData chunk) => chunk.Encoding switch
    {
        XorChunk.Encoding => new XorIterator(chunk.Bytes),
        HistogramChunk.Encoding => new HistogramIterator(chunk.Bytes),
        FloatHistogramChunk.Encoding => new FloatHistogramIterator(chunk.Bytes),
        _ => throw new InvalidDataException($"chunk encoding {chunk.Encoding} is not supported"),
    };

    /// <summary>Seek for an iterator that is already <paramref name="there"/> (on a sample at or after <paramref name="t"/>) or
    /// moves forward with Next until it is.</summary>
    internal static Amphora.Storage.ValueType Seek(ISampleIterator it, long t, bool there, Amphora.Storage.ValueType kind)
    {
        if (there) return kind;
        while (true)
        {
            var state = it.Next();
            if (state == Amphora.Storage.ValueType.None || it.AtT() >= t) return state;
        }
    }
}
