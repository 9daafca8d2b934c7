using System.Buffers;
using FastSpool.Queue;

namespace FastSpool.Delivery.Local;

/// <summary>An mbox append about to happen, the local transport's journal record: the region [Offset, Offset+Length)
/// of MailboxPath with checksum Crc will hold the listed deliveries. Committed before the write, so that recovery
/// can check the mailbox's tail.</summary>
internal sealed record MailboxIntent(string MailboxPath, long Offset, long Length, uint Crc, JournalEntry[] Entries)
{
    private const byte TagPath = 1, TagOffset = 2, TagLength = 3, TagCrc = 4;

    public byte[] EncodePayload()
    {
        byte[] buffer = new byte[TlvWriter.SizeOf(MailboxPath) + (3 * TlvWriter.SizeOf(8))];
        var writer = new TlvWriter(buffer);
        writer.WriteText(TagPath, MailboxPath);
        writer.WriteNumber(TagOffset, Offset);
        writer.WriteNumber(TagLength, Length);
        writer.WriteNumber(TagCrc, Crc);
        return buffer.AsSpan(0, writer.Position).ToArray();
    }

    public static MailboxIntent Decode(JournalRecord record)
    {
        if (record.FormatVersion == 1)
        {
            // Version 1 intents: path, offset, length, CRC in a fixed layout.
            var v1 = new FieldReader(record.Payload);
            return new MailboxIntent(v1.ReadString(), v1.ReadInt64(), v1.ReadInt64(), v1.ReadUInt32(), record.Entries);
        }
        string path = "";
        long offset = 0, length = 0, crc = 0;
        var reader = new TlvReader(record.Payload);
        while (reader.Next(out byte tag, out ReadOnlySpan<byte> value))
        {
            switch (tag)
            {
                case TagPath: path = TlvReader.Text(value); break;
                case TagOffset: offset = TlvReader.Number(value); break;
                case TagLength: length = TlvReader.Number(value); break;
                case TagCrc: crc = TlvReader.Number(value); break;
                default: break;
            }
        }
        return new MailboxIntent(path, offset, length, (uint)crc, record.Entries);
    }
}
