using System.Text;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Queue;

/// <summary>Writes and reads envelope records: version 2 tagged fields, and version 1's fixed layout (read only).</summary>
public static class EnvelopeCodec
{
    private const byte FlagEightBitMime = 1;
    private const byte FlagSmtpUtf8 = 2;
    private const byte FlagDoubleBounce = 4;

    // Envelope fields.
    private const byte TagArrival = 1, TagSize = 2, TagFlags = 3, TagClient = 4, TagHelo = 5, TagSender = 6,
        TagRecipient = 7, TagChunks = 8, TagOrigin = 9, TagAuth = 10, TagEnvId = 11, TagReturn = 12, TagReports = 13,
        TagHeld = 14, TagDelayWarned = 15;

    // Recipient group fields; the state fields are written only by a copy moved forward.
    private const byte RcptAddress = 1, RcptOrcpt = 2, RcptNotify = 3, RcptStatus = 4, RcptAttempts = 5, RcptNext = 6,
        RcptReply = 7, RcptNotified = 8, RcptPartDone = 9;

    // Report group fields.
    private const byte ReportId = 1, ReportKind = 2, ReportRecipients = 3;

    /// <summary>Bytes the envelope's fields take after its inline body.</summary>
    public static int FieldsSize(in SubmissionEnvelope envelope, int chunkCount)
    {
        int size = TlvWriter.SizeOf(8) * 2 + TlvWriter.SizeOf(1) * 5
            + TlvWriter.SizeOf(envelope.ClientAddress.Length)
            + TlvWriter.SizeOf(envelope.ClientHelo.Length)
            + TlvWriter.SizeOf(envelope.Sender.Length)
            + TlvWriter.SizeOf(envelope.AuthenticatedName.Length)
            + TlvWriter.SizeOf(envelope.EnvelopeId.Length)
            + TlvWriter.SizeOf(8 * chunkCount);
        RecipientList recipients = envelope.Recipients;
        for (int i = 0; i < recipients.Count; i++)
        {
            size += TlvWriter.GroupOverhead + TlvWriter.SizeOf(recipients.Address(i).Length)
                + TlvWriter.SizeOf(recipients.OriginalRecipient(i).Length) + TlvWriter.SizeOf(1);
        }
        if (envelope.Reports is { } report)
            size += TlvWriter.GroupOverhead + TlvWriter.SizeOf(8) + TlvWriter.SizeOf(1) + TlvWriter.SizeOf(4 * report.Recipients.Length);
        return size;
    }

    /// <summary>Completes an envelope record whose inline body is already in place; returns the record length.</summary>
    public static int Write(Span<byte> record, QueueId id, DateTimeOffset arrival, long size, in SubmissionEnvelope envelope,
        ReadOnlySpan<long> chunkAddresses, int bodyLength)
    {
        QueueRecord.WriteHeader(record, QueueRecordType.Envelope, id.Value, (uint)chunkAddresses.Length, bodyLength);
        var writer = new TlvWriter(record[(QueueRecord.HeaderSize + bodyLength)..]);
        writer.WriteNumber(TagArrival, arrival.ToUnixTimeMilliseconds());
        writer.WriteNumber(TagSize, size);
        writer.WriteOctet(TagFlags, Flags(envelope.EightBitMime, envelope.SmtpUtf8, envelope.DoubleBounce));
        writer.WriteOctet(TagOrigin, (byte)envelope.Origin);
        writer.WriteBytes(TagClient, envelope.ClientAddress);
        writer.WriteBytes(TagHelo, envelope.ClientHelo);
        writer.WriteBytes(TagSender, envelope.Sender);
        if (!envelope.AuthenticatedName.IsEmpty)
            writer.WriteBytes(TagAuth, envelope.AuthenticatedName);
        if (!envelope.EnvelopeId.IsEmpty)
            writer.WriteBytes(TagEnvId, envelope.EnvelopeId);
        if (envelope.Return != DsnReturn.Unspecified)
            writer.WriteOctet(TagReturn, (byte)envelope.Return);
        RecipientList recipients = envelope.Recipients;
        for (int i = 0; i < recipients.Count; i++)
        {
            int group = writer.BeginGroup(TagRecipient);
            writer.WriteBytes(RcptAddress, recipients.Address(i));
            if (!recipients.OriginalRecipient(i).IsEmpty)
                writer.WriteBytes(RcptOrcpt, recipients.OriginalRecipient(i));
            if (recipients.Notify(i) != DsnNotify.None)
                writer.WriteOctet(RcptNotify, (byte)recipients.Notify(i));
            writer.EndGroup(group);
        }
        WriteChunks(ref writer, chunkAddresses);
        if (envelope.Reports is { } report)
            WriteReport(ref writer, report);
        int length = QueueRecord.HeaderSize + bodyLength + writer.Position;
        QueueRecord.Seal(record[..length]);
        return length;
    }

    /// <summary>An upper bound of the fields of a copy of <paramref name="message"/> with its current state.</summary>
    public static int CopySize(QueuedMessage message)
    {
        int size = 256 + TlvWriter.SizeOf(message.ClientAddress) + TlvWriter.SizeOf(message.ClientHelo) + TlvWriter.SizeOf(message.Sender)
            + TlvWriter.SizeOf(message.AuthenticatedName) + TlvWriter.SizeOf(message.EnvelopeId) + TlvWriter.SizeOf(8 * message.ChunkAddresses.Length);
        foreach (QueuedRecipient r in message.Recipients)
        {
            size += 64 + TlvWriter.SizeOf(r.Address) + TlvWriter.SizeOf(r.OriginalRecipient) + StateRecords.ReplySize(r.LastReply);
            foreach (string part in r.PartsDone)
                size += TlvWriter.SizeOf(part);
        }
        return size;
    }

    /// <summary>Writes a copy of <paramref name="message"/>'s envelope with every recipient's current state, after an
    /// inline body already in place (moving a long-deferred message forward in the log).</summary>
    public static int WriteCopy(Span<byte> record, QueuedMessage message, ReadOnlySpan<long> chunkAddresses, int bodyLength)
    {
        QueueRecord.WriteHeader(record, QueueRecordType.Envelope, message.Id.Value, (uint)chunkAddresses.Length, bodyLength);
        var writer = new TlvWriter(record[(QueueRecord.HeaderSize + bodyLength)..]);
        writer.WriteNumber(TagArrival, message.Arrival.ToUnixTimeMilliseconds());
        writer.WriteNumber(TagSize, message.Size);
        writer.WriteOctet(TagFlags, Flags(message.EightBitMime, message.SmtpUtf8, message.DoubleBounce));
        writer.WriteOctet(TagOrigin, (byte)message.Origin);
        writer.WriteText(TagClient, message.ClientAddress);
        writer.WriteText(TagHelo, message.ClientHelo);
        writer.WriteText(TagSender, message.Sender);
        writer.WriteText(TagAuth, message.AuthenticatedName);
        writer.WriteText(TagEnvId, message.EnvelopeId);
        if (message.Return != DsnReturn.Unspecified)
            writer.WriteOctet(TagReturn, (byte)message.Return);
        if (message.Held)
            writer.WriteOctet(TagHeld, 1);
        if (message.DelayWarned)
            writer.WriteOctet(TagDelayWarned, 1);
        foreach (QueuedRecipient r in message.Recipients)
        {
            int group = writer.BeginGroup(TagRecipient);
            writer.WriteText(RcptAddress, r.Address);
            writer.WriteText(RcptOrcpt, r.OriginalRecipient);
            if (r.Notify != DsnNotify.None)
                writer.WriteOctet(RcptNotify, (byte)r.Notify);
            writer.WriteOctet(RcptStatus, (byte)r.Status);
            writer.WriteNumber(RcptAttempts, r.Attempts);
            if (r.NextAttempt is { } next)
                writer.WriteNumber(RcptNext, next.ToUnixTimeMilliseconds());
            if (r.LastReply is { } reply)
                StateRecords.WriteReply(ref writer, RcptReply, reply);
            if (r.Notified != DsnNotify.None)
                writer.WriteOctet(RcptNotified, (byte)r.Notified);
            foreach (string part in r.PartsDone)
                writer.WriteText(RcptPartDone, part);
            writer.EndGroup(group);
        }
        WriteChunks(ref writer, chunkAddresses);
        int length = QueueRecord.HeaderSize + bodyLength + writer.Position;
        QueueRecord.Seal(record[..length]);
        return length;
    }

    private static byte Flags(bool eightBit, bool utf8, bool doubleBounce) =>
        (byte)((eightBit ? FlagEightBitMime : 0) | (utf8 ? FlagSmtpUtf8 : 0) | (doubleBounce ? FlagDoubleBounce : 0));

    private static void WriteChunks(ref TlvWriter writer, ReadOnlySpan<long> chunkAddresses)
    {
        if (chunkAddresses.IsEmpty)
            return;
        writer.WriteBytes(TagChunks, System.Runtime.InteropServices.MemoryMarshal.AsBytes(chunkAddresses));
    }

    private static void WriteReport(ref TlvWriter writer, DeliveryReport report)
    {
        int group = writer.BeginGroup(TagReports);
        writer.WriteNumber(ReportId, (long)report.Original.Value);
        writer.WriteOctet(ReportKind, (byte)report.Kind);
        writer.WriteBytes(ReportRecipients, System.Runtime.InteropServices.MemoryMarshal.AsBytes(report.Recipients.AsSpan()));
        writer.EndGroup(group);
    }

    /// <summary>Reads an envelope record back into the queue manager's form; <paramref name="report"/> is set for a
    /// delivery status notification made by this server.</summary>
    public static QueuedMessage Read(long address, ReadOnlySpan<byte> record, in QueueRecordHeader header, out DeliveryReport? report)
    {
        report = null;
        if (header.Version == 1)
            return ReadVersion1(address, record, header);
        long arrival = 0, size = 0;
        byte flags = 0;
        string client = "", helo = "", sender = "";
        string? auth = null, envid = null;
        var origin = MessageOrigin.Smtp;
        var ret = DsnReturn.Unspecified;
        bool held = false, delayWarned = false;
        long[] chunks = [];
        var recipients = new List<QueuedRecipient>();
        var reader = new TlvReader(QueueRecord.Fields(record, header));
        while (reader.Next(out byte tag, out ReadOnlySpan<byte> value))
        {
            switch (tag)
            {
                case TagArrival: arrival = TlvReader.Number(value); break;
                case TagSize: size = TlvReader.Number(value); break;
                case TagFlags: flags = TlvReader.Octet(value); break;
                case TagClient: client = TlvReader.Text(value); break;
                case TagHelo: helo = TlvReader.Text(value); break;
                case TagSender: sender = TlvReader.Text(value); break;
                case TagAuth: auth = TlvReader.Text(value); break;
                case TagEnvId: envid = TlvReader.Text(value); break;
                case TagOrigin: origin = (MessageOrigin)TlvReader.Octet(value); break;
                case TagReturn: ret = (DsnReturn)TlvReader.Octet(value); break;
                case TagHeld: held = TlvReader.Octet(value) != 0; break;
                case TagDelayWarned: delayWarned = TlvReader.Octet(value) != 0; break;
                case TagRecipient: recipients.Add(ReadRecipient(value)); break;
                case TagChunks:
                    if (value.Length % 8 != 0)
                        throw new InvalidDataException("envelope chunk list is damaged");
                    chunks = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(value).ToArray();
                    break;
                case TagReports: report = ReadReport(value); break;
                default: break; // a field of a newer FastSpool
            }
        }
        long first = address;
        foreach (long chunk in chunks)
            first = Math.Min(first, chunk);
        return new QueuedMessage
        {
            Id = new QueueId(header.QueueId),
            FirstAddress = first,
            EnvelopeAddress = address,
            Arrival = TlvReader.Time(arrival),
            Size = size,
            Sender = sender,
            Recipients = [.. recipients],
            ChunkAddresses = chunks,
            ClientAddress = client,
            ClientHelo = helo,
            AuthenticatedName = auth,
            EnvelopeId = envid,
            Origin = origin,
            Return = ret,
            EightBitMime = (flags & FlagEightBitMime) != 0,
            SmtpUtf8 = (flags & FlagSmtpUtf8) != 0,
            DoubleBounce = (flags & FlagDoubleBounce) != 0,
            Held = held,
            DelayWarned = delayWarned,
        };
    }

    private static QueuedRecipient ReadRecipient(ReadOnlySpan<byte> group)
    {
        string address = "";
        string? orcpt = null;
        var notify = DsnNotify.None;
        var status = RecipientStatus.Pending;
        int attempts = 0;
        DateTimeOffset? next = null;
        DeliveryReply? reply = null;
        var notified = DsnNotify.None;
        List<string>? parts = null;
        var reader = new TlvReader(group);
        while (reader.Next(out byte tag, out ReadOnlySpan<byte> value))
        {
            switch (tag)
            {
                case RcptAddress: address = TlvReader.Text(value); break;
                case RcptOrcpt: orcpt = TlvReader.Text(value); break;
                case RcptNotify: notify = (DsnNotify)TlvReader.Octet(value); break;
                case RcptStatus: status = (RecipientStatus)TlvReader.Octet(value); break;
                case RcptAttempts: attempts = (int)TlvReader.Number(value); break;
                case RcptNext: next = TlvReader.Time(TlvReader.Number(value)); break;
                case RcptReply: reply = StateRecords.ReadReply(value); break;
                case RcptNotified: notified = (DsnNotify)TlvReader.Octet(value); break;
                case RcptPartDone: (parts ??= []).Add(TlvReader.Text(value)); break;
                default: break;
            }
        }
        var recipient = new QueuedRecipient
        {
            Address = address,
            OriginalRecipient = orcpt,
            Notify = notify,
            Status = status,
            Attempts = attempts,
            NextAttempt = next,
            LastReply = reply,
            Notified = notified,
        };
        if (parts is not null)
        {
            foreach (string part in parts)
                recipient.MarkPartDone(part);
        }
        return recipient;
    }

    private static DeliveryReport ReadReport(ReadOnlySpan<byte> group)
    {
        ulong id = 0;
        var kind = DeliveryReportKind.Failure;
        int[] recipients = [];
        var reader = new TlvReader(group);
        while (reader.Next(out byte tag, out ReadOnlySpan<byte> value))
        {
            switch (tag)
            {
                case ReportId: id = (ulong)TlvReader.Number(value); break;
                case ReportKind: kind = (DeliveryReportKind)TlvReader.Octet(value); break;
                case ReportRecipients: recipients = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(value).ToArray(); break;
                default: break;
            }
        }
        return new DeliveryReport(new QueueId(id), kind, recipients);
    }

    /// <summary>Version 1 envelopes: arrival, size, flags, client, helo, sender, recipients, chunk addresses.</summary>
    private static QueuedMessage ReadVersion1(long address, ReadOnlySpan<byte> record, in QueueRecordHeader header)
    {
        var reader = new FieldReader(QueueRecord.Fields(record, header));
        long arrival = reader.ReadInt64();
        long size = reader.ReadInt64();
        byte flags = reader.ReadByte();
        string client = reader.ReadString();
        string helo = reader.ReadString();
        string sender = reader.ReadString();
        var recipients = new QueuedRecipient[reader.ReadCount(2)];
        for (int i = 0; i < recipients.Length; i++)
            recipients[i] = new QueuedRecipient { Address = reader.ReadString() };
        var chunks = new long[reader.ReadCount(8)];
        long first = address;
        for (int i = 0; i < chunks.Length; i++)
        {
            chunks[i] = reader.ReadInt64();
            first = Math.Min(first, chunks[i]);
        }
        return new QueuedMessage
        {
            Id = new QueueId(header.QueueId),
            FirstAddress = first,
            EnvelopeAddress = address,
            Arrival = TlvReader.Time(arrival),
            Size = size,
            Sender = sender,
            Recipients = recipients,
            ChunkAddresses = chunks,
            ClientAddress = client,
            ClientHelo = helo,
            EightBitMime = (flags & FlagEightBitMime) != 0,
            SmtpUtf8 = (flags & FlagSmtpUtf8) != 0,
        };
    }

    /// <summary>The queue manager's form of an envelope a door just sealed (what <see cref="Read"/> would return for
    /// its record, without parsing it back).</summary>
    internal static QueuedMessage ToMessage(QueueId id, DateTimeOffset arrival, long size, in SubmissionEnvelope envelope, long[] chunks, long firstAddress,
        EnvelopeTextCache text)
    {
        RecipientList list = envelope.Recipients;
        var recipients = new QueuedRecipient[list.Count];
        for (int i = 0; i < recipients.Length; i++)
        {
            recipients[i] = new QueuedRecipient
            {
                Address = i == 0 ? text.Recipient(list.Address(i)) : Text(list.Address(i)),
                OriginalRecipient = list.OriginalRecipient(i).IsEmpty ? null : Text(list.OriginalRecipient(i)),
                Notify = list.Notify(i),
            };
        }
        return new QueuedMessage
        {
            Id = id,
            FirstAddress = firstAddress,
            Arrival = arrival,
            Size = size,
            Sender = text.Sender(envelope.Sender),
            Recipients = recipients,
            ChunkAddresses = chunks,
            ClientAddress = text.ClientAddress(envelope.ClientAddress),
            ClientHelo = text.ClientHelo(envelope.ClientHelo),
            AuthenticatedName = envelope.AuthenticatedName.IsEmpty ? null : text.AuthenticatedName(envelope.AuthenticatedName),
            EnvelopeId = envelope.EnvelopeId.IsEmpty ? null : Text(envelope.EnvelopeId),
            Origin = envelope.Origin,
            Return = envelope.Return,
            EightBitMime = envelope.EightBitMime,
            SmtpUtf8 = envelope.SmtpUtf8,
            DoubleBounce = envelope.DoubleBounce,
        };
    }

    private static string Text(ReadOnlySpan<byte> utf8) => utf8.IsEmpty ? "" : Encoding.UTF8.GetString(utf8);
}
