namespace FastSpool.Posix;

/// <summary><c>l_type</c> of <c>struct flock</c>.</summary>
public enum FileLockType : short
{
    /// <summary><c>F_RDLCK</c>.</summary>
    Read = 0,

    /// <summary><c>F_WRLCK</c>.</summary>
    Write = 1,

    /// <summary><c>F_UNLCK</c>.</summary>
    Unlock = 2,
}
