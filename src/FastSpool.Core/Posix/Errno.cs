namespace FastSpool.Posix;

/// <summary>The errno values the callers act on (Linux numbering, <c>asm-generic/errno-base.h</c>).</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ESRCH = 3;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENXIO = 6;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ENOSPC = 28;
    public const int EROFS = 30;
    public const int ERANGE = 34;
    public const int ELOOP = 40;
}
