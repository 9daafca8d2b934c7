namespace FastSpool.Cli;

/// <summary>A line of <c>fastspool mailq --json</c>, named as <c>postqueue -j</c> names its fields.</summary>
/// <param name="ArrivalTime">Seconds since the epoch.</param>
/// <param name="Sender">Empty for the null sender.</param>
internal sealed record MailqJsonMessage(
    string QueueName,
    string QueueId,
    long ArrivalTime,
    long MessageSize,
    string Sender,
    IReadOnlyList<MailqJsonRecipient> Recipients);
