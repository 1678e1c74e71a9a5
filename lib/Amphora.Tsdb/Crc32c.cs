using System.Buffers.Binary;
using System.Numerics;

namespace Amphora.Tsdb;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of the WAL and of Prometheus's index, chunk and tombstone files: initial value and
/// final XOR 0xFFFFFFFF. <see cref="Append"/> continues a running checksum, so framed data needs no concatenated copy.
/// </summary>
public static class Crc32c
{
    public const uint Initial = 0xFFFFFFFFu;

    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Initial, data));

    public static uint Append(uint state, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + 8 <= data.Length; i += 8) state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i)));
        for (; i < data.Length; i++) state = BitOperations.Crc32C(state, data[i]);
        return state;
    }

    public static uint Append(uint state, byte value) => BitOperations.Crc32C(state, value);

    public static uint Finish(uint state) => ~state;
}
