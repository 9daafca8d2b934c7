namespace FastSpool.Posix;

/// <summary>The Linux capabilities the server's rights depend on (numbers from <c>linux/capability.h</c>).</summary>
public enum Capability
{
    /// <summary>CAP_CHOWN: give a new mailbox to its user.</summary>
    Chown = 0,

    /// <summary>CAP_DAC_OVERRIDE: open a mailbox whose mode grants the server nothing.</summary>
    DacOverride = 1,

    /// <summary>CAP_NET_BIND_SERVICE: listen on port 25.</summary>
    NetBindService = 10,
}
