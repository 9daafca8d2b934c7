namespace FastSpool.Posix;

/// <summary>The <c>S_IFMT</c> bits of a file mode.</summary>
public enum UnixFileType
{
    Unknown = 0,
    Fifo = 0x1000,
    CharacterDevice = 0x2000,
    Directory = 0x4000,
    BlockDevice = 0x6000,
    RegularFile = 0x8000,
    SymbolicLink = 0xA000,
    Socket = 0xC000,
}
