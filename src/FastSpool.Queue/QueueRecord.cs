using System.Buffers.Binary;

namespace FastSpool.Queue;

/// <summary>The fixed header that starts every queue record, and the record checksum.
/// Layout (little endian): type u8, version u8, reserved u16, crc32c u32 (of the whole record but itself),
/// queue id u64, index u32, body length u32, then the body, then type-specific fields. Version 1 wrote the fields
/// in a fixed order; version 2 writes tagged fields (<see cref="TlvWriter"/>) that a reader may skip.</summary>
public static class QueueRecord
{
    public const int HeaderSize = 24;
    public const byte Version = 2;

    /// <summary>The oldest format this FastSpool still reads.</summary>
    public const byte OldestVersion = 1;

    /// <summary>Largest record body (chunk) the queue writes; well below the log's page size so that page padding
    /// stays small.</summary>
    public const int MaxChunkBody = 256 * 1024;

    public static void WriteHeader(Span<byte> record, QueueRecordType type, ulong queueId, uint index, int bodyLength)
    {
        record[0] = (byte)type;
        record[1] = Version;
        BinaryPrimitives.WriteUInt16LittleEndian(record[2..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(record[8..], queueId);
        BinaryPrimitives.WriteUInt32LittleEndian(record[16..], index);
        BinaryPrimitives.WriteInt32LittleEndian(record[20..], bodyLength);
    }

    /// <summary>Computes and stores the checksum; call when the record is complete.</summary>
    public static void Seal(Span<byte> record) =>
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Checksum(record));

    private static uint Checksum(ReadOnlySpan<byte> record) =>
        Crc32C.Finish(Crc32C.Append(Crc32C.Append(Crc32C.Start, record[..4]), record[8..]));

    /// <summary>Checks the header and checksum; false for a record that is torn, foreign or from a newer version.</summary>
    public static bool TryRead(ReadOnlySpan<byte> record, out QueueRecordHeader header) =>
        Check(record, out header) == RecordCheck.Valid;

    /// <summary>Checks the header and checksum, telling a damaged record from an intact one in a format newer than
    /// this FastSpool reads (which must stop recovery: skipping it would lose state).</summary>
    public static RecordCheck Check(ReadOnlySpan<byte> record, out QueueRecordHeader header)
    {
        header = default;
        if (record.Length < HeaderSize)
            return RecordCheck.Damaged;
        if (BinaryPrimitives.ReadUInt32LittleEndian(record[4..]) != Checksum(record))
            return RecordCheck.Damaged;
        if (record[1] is < OldestVersion or > Version)
            return record[1] > Version ? RecordCheck.NewerVersion : RecordCheck.Damaged;
        int bodyLength = BinaryPrimitives.ReadInt32LittleEndian(record[20..]);
        if (bodyLength < 0 || bodyLength > record.Length - HeaderSize)
            return RecordCheck.Damaged;
        header = new QueueRecordHeader(
            (QueueRecordType)record[0],
            BinaryPrimitives.ReadUInt64LittleEndian(record[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(record[16..]),
            bodyLength,
            record[1]);
        return RecordCheck.Valid;
    }

    public static ReadOnlySpan<byte> Body(ReadOnlySpan<byte> record, in QueueRecordHeader header) =>
        record.Slice(HeaderSize, header.BodyLength);

    public static ReadOnlySpan<byte> Fields(ReadOnlySpan<byte> record, in QueueRecordHeader header) =>
        record[(HeaderSize + header.BodyLength)..];
}

public readonly record struct QueueRecordHeader(QueueRecordType Type, ulong QueueId, uint Index, int BodyLength, byte Version = QueueRecord.Version);

public enum RecordCheck : byte
{
    Valid,
    Damaged,
    NewerVersion,
}
