namespace FastSpool.Queue;

/// <summary>What the recovery scan found: messages not yet finished (with every recipient's state), and transport
/// journal records whose deliveries are not all finished (checked by their transport before it writes again).</summary>
public sealed class RecoveredQueue
{
    public List<QueuedMessage> Messages { get; } = [];

    public List<JournalRecord> UnfinishedJournals { get; } = [];

    public int RecordsScanned { get; set; }

    public int DamagedRecords { get; set; }

    /// <summary>Intact records of a kind this FastSpool does not know (written by a newer one), skipped.</summary>
    public int UnknownRecords { get; set; }
}
