using System.Runtime.InteropServices;

namespace FastSpool.Posix;

/// <summary><c>struct statx</c> (linux/stat.h): the same layout on every Linux architecture, 256 bytes.
/// Only the fields we read are declared.</summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct Statx
{
    [FieldOffset(0x00)] public uint Mask;
    [FieldOffset(0x10)] public uint LinkCount;
    [FieldOffset(0x14)] public uint OwnerId;
    [FieldOffset(0x18)] public uint GroupId;
    [FieldOffset(0x1C)] public ushort Mode;
    [FieldOffset(0x20)] public ulong Inode;
    [FieldOffset(0x28)] public ulong Size;
    [FieldOffset(0x70)] public long ModificationSeconds;
    [FieldOffset(0x78)] public uint ModificationNanoseconds;
    [FieldOffset(0x88)] public uint DeviceMajor;
    [FieldOffset(0x8C)] public uint DeviceMinor;

    public readonly UnixFileStatus ToStatus()
    {
        const int TypeMask = 0xF000;
        return new UnixFileStatus(
            (UnixFileType)(Mode & TypeMask),
            (UnixFileMode)(Mode & ~TypeMask),
            LinkCount,
            OwnerId,
            (long)Size,
            ((ulong)DeviceMajor << 32) | DeviceMinor,
            Inode,
            DateTimeOffset.FromUnixTimeSeconds(ModificationSeconds).AddTicks(ModificationNanoseconds / 100),
            GroupId);
    }
}
