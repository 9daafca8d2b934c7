namespace FastSpool.Queue;

/// <summary>Which delivery status notification a message is: the original's recipients it reports on are marked
/// notified when the notice is committed, so that a crash never sends the same notice twice.</summary>
public enum DeliveryReportKind : byte
{
    Failure = 1,
    Delay = 2,
    Success = 3,
}
