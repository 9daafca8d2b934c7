using System.Runtime.InteropServices;

namespace FastSpool.Posix;

/// <summary><c>struct flock</c> on 64-bit Linux (off_t is 64 bits): 32 bytes with natural alignment.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Flock
{
    public short Type;
    public short Whence;
    public long Start;
    public long Length;
    public int ProcessId;
}
