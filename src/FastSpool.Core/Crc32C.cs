using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;

namespace FastSpool;

/// <summary>CRC-32C (Castagnoli), hardware-accelerated through <see cref="BitOperations.Crc32C(uint, ulong)"/>.
/// Used for our own record checksums: FasterLog's per-entry checksum is only an XOR fold.</summary>
public static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Start, data));

    public static uint Compute(in ReadOnlySequence<byte> data)
    {
        uint crc = Start;
        foreach (ReadOnlyMemory<byte> segment in data)
            crc = Append(crc, segment.Span);
        return Finish(crc);
    }

    public const uint Start = 0xFFFFFFFFu;

    public static uint Finish(uint crc) => ~crc;

    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (byte b in data)
            crc = BitOperations.Crc32C(crc, b);
        return crc;
    }
}
