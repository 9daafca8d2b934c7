namespace FastSpool.Posix;

/// <summary>Flags for <see cref="Libc.Open"/>; the values are Linux's (x86_64 and arm64 agree) from
/// <c>bits/fcntl-linux.h</c>.</summary>
[Flags]
public enum OpenFlags
{
    /// <summary><c>O_RDONLY</c>.</summary>
    None = 0,

    /// <summary><c>O_WRONLY</c>.</summary>
    WriteOnly = 0x1,

    /// <summary><c>O_RDWR</c>.</summary>
    ReadWrite = 0x2,

    /// <summary><c>O_CREAT</c> (octal 0100).</summary>
    Create = 0x40,

    /// <summary><c>O_EXCL</c> (octal 0200): with <see cref="Create"/>, fail with EEXIST if the name exists.</summary>
    Exclusive = 0x80,

    /// <summary><c>O_NONBLOCK</c> (octal 04000): keeps opening a FIFO from waiting for a peer.</summary>
    NonBlocking = 0x800,

    /// <summary><c>O_NOFOLLOW</c> (octal 0400000): fail with ELOOP if the last component is a symbolic link.</summary>
    NoFollow = 0x20000,

    /// <summary><c>O_CLOEXEC</c> (octal 02000000).</summary>
    CloseOnExec = 0x80000,
}
