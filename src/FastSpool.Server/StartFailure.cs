namespace FastSpool.Server;

/// <summary>Why the server could not start; the command line turns each into its sysexits code.</summary>
public enum StartFailure
{
    /// <summary>A listen address is taken by another process.</summary>
    AddressInUse,

    /// <summary>A listen address is not one of this host's.</summary>
    AddressNotAvailable,

    /// <summary>A privileged port (below 1024) without CAP_NET_BIND_SERVICE, or another refusal by the system.</summary>
    PermissionDenied,

    /// <summary>The data directory cannot be created or written (read-only file system, wrong owner).</summary>
    DataDirectoryNotWritable,

    /// <summary>A file the configuration names cannot be used (a certificate that is missing, unreadable or broken).</summary>
    Configuration,

    /// <summary>Another FastSpool holds the data directory's lock.</summary>
    AlreadyRunning,
}
