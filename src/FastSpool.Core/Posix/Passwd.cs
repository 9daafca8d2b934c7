using System.Runtime.InteropServices;

namespace FastSpool.Posix;

/// <summary><c>struct passwd</c> on 64-bit Linux (glibc and musl): 48 bytes. Only the name is read.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Passwd
{
    public nint Name;
    public nint Password;
    public uint UserId;
    public uint GroupId;
    public nint Gecos;
    public nint Home;
    public nint Shell;
}
