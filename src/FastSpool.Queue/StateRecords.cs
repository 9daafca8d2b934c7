namespace FastSpool.Queue;

/// <summary>The small records that follow a message's envelope: recipient states, parts done, transport journals,
/// hold/release, removal. Each writer returns the record length in a buffer the caller sized with the matching
/// SizeOf; each reader is the recovery scan's.</summary>
public static class StateRecords
{
    private const byte StateStatus = 1, StateTime = 2, StateAttempts = 3, StateNext = 4, StateReply = 5;
    private const byte ReplyCode = 1, ReplyEnhanced = 2, ReplyText = 3, ReplyHost = 4, ReplyNotFromHost = 5;
    private const byte PartName = 1;
    private const byte JournalTransport = 1, JournalPayload = 2, JournalEntryGroup = 3;
    private const byte EntryId = 1, EntryRecipient = 2, EntryPart = 3;
    private const byte ControlTime = 1, ControlWho = 2;
    private const byte RemovedReason = 1;

    public static int ReplySize(DeliveryReply? reply) => reply is null ? 0
        : TlvWriter.GroupOverhead + TlvWriter.SizeOf(8) + TlvWriter.SizeOf(reply.EnhancedStatus) + TlvWriter.SizeOf(reply.Text)
          + TlvWriter.SizeOf(reply.RemoteHost) + (reply.FromHost ? 0 : TlvWriter.SizeOf(1));

    public static void WriteReply(ref TlvWriter writer, byte tag, DeliveryReply reply)
    {
        int group = writer.BeginGroup(tag);
        writer.WriteNumber(ReplyCode, reply.Code);
        writer.WriteText(ReplyEnhanced, reply.EnhancedStatus);
        writer.WriteText(ReplyText, reply.Text);
        writer.WriteText(ReplyHost, reply.RemoteHost);
        if (!reply.FromHost)
            writer.WriteOctet(ReplyNotFromHost, 1);
        writer.EndGroup(group);
    }

    public static DeliveryReply ReadReply(ReadOnlySpan<byte> group)
    {
        int code = 0;
        string enhanced = "", text = "";
        string? host = null;
        bool fromHost = true;
        var reader = new TlvReader(group);
        while (reader.Next(out byte tag, out ReadOnlySpan<byte> value))
        {
            switch (tag)
            {
                case ReplyCode: code = (int)TlvReader.Number(value); break;
                case ReplyEnhanced: enhanced = TlvReader.Text(value); break;
                case ReplyText: text = TlvReader.Text(value); break;
                case ReplyHost: host = TlvReader.Text(value); break;
                case ReplyNotFromHost: fromHost = false; break;
                default: break;
            }
        }
        return new DeliveryReply(code, enhanced, text, host) { FromHost = fromHost };
    }

    // Recipient state.

    public static int RecipientStateSize(DeliveryReply? reply) =>
        QueueRecord.HeaderSize + TlvWriter.SizeOf(1) + (3 * TlvWriter.SizeOf(8)) + ReplySize(reply);

    public static int WriteRecipientState(Span<byte> record, QueueId id, int recipient, RecipientStatus status, DateTimeOffset time,
        int attempts, DateTimeOffset? next, DeliveryReply? reply)
    {
        QueueRecord.WriteHeader(record, QueueRecordType.RecipientState, id.Value, (uint)recipient, 0);
        var writer = new TlvWriter(record[QueueRecord.HeaderSize..]);
        writer.WriteOctet(StateStatus, (byte)status);
        writer.WriteNumber(StateTime, time.ToUnixTimeMilliseconds());
        writer.WriteNumber(StateAttempts, attempts);
        if (next is { } at)
            writer.WriteNumber(StateNext, at.ToUnixTimeMilliseconds());
        if (reply is not null)
            WriteReply(ref writer, StateReply, reply);
        return Seal(record, writer.Position);
    }

    /// <summary>Applies a recipient state record to the recipient it names.</summary>
    public static void ApplyRecipientState(ReadOnlySpan<byte> fields, QueuedRecipient recipient)
    {
        var status = RecipientStatus.Pending;
        DateTimeOffset time = default;
        DateTimeOffset? next = null;
        DeliveryReply? reply = null;
        int attempts = recipient.Attempts;
        var reader = new TlvReader(fields);
        while (reader.Next(out byte tag, out ReadOnlySpan<byte> value))
        {
            switch (tag)
            {
                case StateStatus: status = (RecipientStatus)TlvReader.Octet(value); break;
                case StateTime: time = TlvReader.Time(TlvReader.Number(value)); break;
                case StateAttempts: attempts = (int)TlvReader.Number(value); break;
                case StateNext: next = TlvReader.Time(TlvReader.Number(value)); break;
                case StateReply: reply = ReadReply(value); break;
                default: break;
            }
        }
        recipient.Status = status;
        recipient.Attempts = attempts;
        recipient.NextAttempt = next;
        recipient.LastReply = reply ?? recipient.LastReply;
        recipient.AddHistory(new RecipientEvent(time, status, reply));
    }

    // Part done.

    public static int PartDoneSize(string part) => QueueRecord.HeaderSize + TlvWriter.SizeOf(part);

    public static int WritePartDone(Span<byte> record, QueueId id, int recipient, string part)
    {
        QueueRecord.WriteHeader(record, QueueRecordType.PartDone, id.Value, (uint)recipient, 0);
        var writer = new TlvWriter(record[QueueRecord.HeaderSize..]);
        writer.WriteText(PartName, part);
        return Seal(record, writer.Position);
    }

    public static string ReadPartDone(ReadOnlySpan<byte> fields, byte version)
    {
        if (version == 1)
        {
            // Version 1: outcome octet, then the mailbox.
            var v1 = new FieldReader(fields);
            v1.ReadByte();
            return v1.ReadString();
        }
        var reader = new TlvReader(fields);
        while (reader.Next(out byte tag, out ReadOnlySpan<byte> value))
        {
            if (tag == PartName)
                return TlvReader.Text(value);
        }
        return "";
    }

    // Journal.

    public static int JournalSize(string transport, int payloadLength, ReadOnlySpan<JournalEntry> entries)
    {
        int size = QueueRecord.HeaderSize + TlvWriter.SizeOf(transport) + TlvWriter.SizeOf(payloadLength);
        foreach (JournalEntry entry in entries)
            size += TlvWriter.GroupOverhead + (2 * TlvWriter.SizeOf(8)) + TlvWriter.SizeOf(entry.Part);
        return size;
    }

    public static int WriteJournal(Span<byte> record, string transport, ReadOnlySpan<byte> payload, ReadOnlySpan<JournalEntry> entries)
    {
        QueueRecord.WriteHeader(record, QueueRecordType.Journal, 0, (uint)entries.Length, 0);
        var writer = new TlvWriter(record[QueueRecord.HeaderSize..]);
        writer.WriteText(JournalTransport, transport);
        writer.WriteBytes(JournalPayload, payload);
        foreach (JournalEntry entry in entries)
        {
            int group = writer.BeginGroup(JournalEntryGroup);
            writer.WriteNumber(EntryId, (long)entry.Id.Value);
            writer.WriteNumber(EntryRecipient, entry.Recipient);
            writer.WriteText(EntryPart, entry.Part);
            writer.EndGroup(group);
        }
        return Seal(record, writer.Position);
    }

    public static JournalRecord ReadJournal(ReadOnlySpan<byte> fields, byte version)
    {
        if (version == 1)
            return ReadVersion1Intent(fields);
        string transport = "";
        byte[] payload = [];
        var entries = new List<JournalEntry>();
        var reader = new TlvReader(fields);
        while (reader.Next(out byte tag, out ReadOnlySpan<byte> value))
        {
            switch (tag)
            {
                case JournalTransport: transport = TlvReader.Text(value); break;
                case JournalPayload: payload = value.ToArray(); break;
                case JournalEntryGroup: entries.Add(ReadEntry(value)); break;
                default: break;
            }
        }
        return new JournalRecord(transport, payload, [.. entries]);
    }

    private static JournalEntry ReadEntry(ReadOnlySpan<byte> group)
    {
        ulong id = 0;
        int recipient = 0;
        string part = "";
        var reader = new TlvReader(group);
        while (reader.Next(out byte tag, out ReadOnlySpan<byte> value))
        {
            switch (tag)
            {
                case EntryId: id = (ulong)TlvReader.Number(value); break;
                case EntryRecipient: recipient = (int)TlvReader.Number(value); break;
                case EntryPart: part = TlvReader.Text(value); break;
                default: break;
            }
        }
        return new JournalEntry(new QueueId(id), recipient, part);
    }

    /// <summary>A version 1 mailbox intent: path, offset, length, CRC, then (id, recipient, mailbox) entries. The
    /// payload keeps that layout up to the entries, for the local transport to read.</summary>
    private static JournalRecord ReadVersion1Intent(ReadOnlySpan<byte> fields)
    {
        var reader = new FieldReader(fields);
        reader.ReadString();
        reader.ReadInt64();
        reader.ReadInt64();
        reader.ReadUInt32();
        int payloadLength = fields.Length - reader.Remaining;
        var entries = new JournalEntry[reader.ReadCount(8 + 4 + 2)];
        for (int i = 0; i < entries.Length; i++)
            entries[i] = new JournalEntry(new QueueId(reader.ReadUInt64()), (int)reader.ReadUInt32(), reader.ReadString());
        return new JournalRecord("local", fields[..payloadLength].ToArray(), entries, FormatVersion: 1);
    }

    // Message control and removal.

    public static int ControlSize(string who) => QueueRecord.HeaderSize + TlvWriter.SizeOf(8) + TlvWriter.SizeOf(who);

    public static int WriteControl(Span<byte> record, QueueId id, MessageControlAction action, DateTimeOffset time, string who)
    {
        QueueRecord.WriteHeader(record, QueueRecordType.MessageControl, id.Value, (uint)action, 0);
        var writer = new TlvWriter(record[QueueRecord.HeaderSize..]);
        writer.WriteNumber(ControlTime, time.ToUnixTimeMilliseconds());
        writer.WriteText(ControlWho, who);
        return Seal(record, writer.Position);
    }

    public static int RemovedSize(string reason) => QueueRecord.HeaderSize + TlvWriter.SizeOf(reason);

    public static int WriteRemoved(Span<byte> record, QueueId id, string reason)
    {
        QueueRecord.WriteHeader(record, QueueRecordType.MessageRemoved, id.Value, 0, 0);
        var writer = new TlvWriter(record[QueueRecord.HeaderSize..]);
        writer.WriteText(RemovedReason, reason);
        return Seal(record, writer.Position);
    }

    private static int Seal(Span<byte> record, int fieldsLength)
    {
        int length = QueueRecord.HeaderSize + fieldsLength;
        QueueRecord.Seal(record[..length]);
        return length;
    }
}
