using System.Net.Sockets;
using System.Runtime.InteropServices;
using FastSpool.Posix;

namespace FastSpool.Server.Admin;

/// <summary>Who is at the other end of a Unix socket, as the kernel recorded it when they connected
/// (<c>SO_PEERCRED</c>): it cannot be forged by the client, unlike anything it sends.</summary>
internal readonly record struct PeerCredentials(int ProcessId, uint UserId, uint GroupId)
{
    // asm-generic/socket.h (x86_64, arm64): SOL_SOCKET 1, SO_PEERCRED 17; struct ucred is pid, uid, gid.
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private const int UcredSize = 12;

    public static bool TryRead(Socket? socket, out PeerCredentials credentials)
    {
        credentials = default;
        if (socket is null || socket.AddressFamily != AddressFamily.Unix)
            return false;
        Span<byte> ucred = stackalloc byte[UcredSize];
        try
        {
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred) < UcredSize)
                return false;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or PlatformNotSupportedException)
        {
            return false;
        }
        credentials = new PeerCredentials(
            MemoryMarshal.Read<int>(ucred),
            MemoryMarshal.Read<uint>(ucred[4..]),
            MemoryMarshal.Read<uint>(ucred[8..]));
        return true;
    }

    /// <summary>For the mail log: <c>uid 0 (root)</c>, or <c>uid 1234</c> when the account has no name.</summary>
    public string Describe() => Libc.UserNameOf(UserId) is { } name ? $"uid {UserId} ({name})" : $"uid {UserId}";
}
