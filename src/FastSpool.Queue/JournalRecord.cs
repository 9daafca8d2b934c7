namespace FastSpool.Queue;

/// <summary>A transport's crash record as recovery found it: the payload is the transport's own; the entries name
/// the deliveries it covers. <paramref name="FormatVersion"/> is the record's version (1: a version 1 mailbox
/// intent, whose payload has that version's fixed layout).</summary>
public sealed record JournalRecord(string Transport, byte[] Payload, JournalEntry[] Entries, byte FormatVersion = QueueRecord.Version);

/// <summary>One delivery a journal record covers: a recipient of a message, and the part of it (a mailbox).</summary>
public readonly record struct JournalEntry(QueueId Id, int Recipient, string Part);
