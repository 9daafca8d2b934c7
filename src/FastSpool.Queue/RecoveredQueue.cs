namespace FastSpool.Queue;

/// <summary>What the recovery scan found: messages not yet finished, and appends whose outcome must be checked
/// in the mailbox before anything is delivered again.</summary>
public sealed class RecoveredQueue
{
    public List<QueuedMessage> Messages { get; } = [];

    public List<DeliveryIntent> UnfinishedIntents { get; } = [];

    public int RecordsScanned { get; set; }

    public int DamagedRecords { get; set; }
}
