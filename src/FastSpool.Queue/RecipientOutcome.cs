namespace FastSpool.Queue;

public enum RecipientOutcome : byte
{
    Delivered = 1,
    Bounced = 2,
}
