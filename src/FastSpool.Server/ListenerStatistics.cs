namespace FastSpool.Server;

/// <summary>The SMTP sessions of one listen endpoint: open now, and opened since start. Named as configured
/// (<c>127.0.0.1:2525</c>), which is the <c>listener</c> label of the metrics.</summary>
internal sealed class ListenerStatistics(string name)
{
    private long _opened;
    private long _open;

    public string Name { get; } = name;

    /// <summary>The metrics' label, made once.</summary>
    public KeyValuePair<string, object?> Tag { get; } = new("listener", name);

    public long Opened => Volatile.Read(ref _opened);

    public long Open => Volatile.Read(ref _open);

    public void SessionOpened()
    {
        Interlocked.Increment(ref _open);
        Interlocked.Increment(ref _opened);
    }

    public void SessionClosed() => Interlocked.Decrement(ref _open);
}
