namespace FastSpool.Queue;

/// <summary>An mbox append about to happen: the region [Offset, Offset+Length) of MailboxPath with checksum Crc
/// will hold the listed deliveries. Committed before the write, so recovery can check the mailbox's tail.</summary>
public sealed record DeliveryIntent(string MailboxPath, long Offset, long Length, uint Crc, DeliveryIntentEntry[] Entries);

public readonly record struct DeliveryIntentEntry(QueueId Id, int Recipient, string Mailbox);
