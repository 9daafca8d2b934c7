namespace FastSpool.Bench.Delivery;

/// <summary>Counts messages delivered since the counter was made (its baseline).</summary>
internal interface IDeliveredCounter : IDisposable
{
    /// <summary>Messages gained since the baseline; cheap enough to call every few milliseconds.</summary>
    long Count();

    /// <summary>How often to call <see cref="Count"/> while waiting: the precision of the end-to-end time.</summary>
    TimeSpan PollInterval { get; }
}
