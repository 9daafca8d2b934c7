namespace FastSpool.Delivery.Bounces;

/// <summary>The three notices a DSN can be: its subject, human text and attachment follow from this.</summary>
internal enum DsnKind
{
    Failure,
    Delay,
    Success,
}
