using FastSpool.Posix;

namespace FastSpool.Cli.Sendmail;

/// <summary>The whole message, read from standard input before anything is sent, in its stored form (CRLF line
/// ends): in memory up to <see cref="MemoryLimit"/>, beyond that in a temporary file that has no name (unlinked at
/// once, so a killed sendmail leaves nothing behind). Read whole first, the message can go to the server and, if
/// the server fails on the way, to the maildrop; and a program that writes slowly is never cut off by the server's
/// data-rate limit.</summary>
internal sealed class MessageSpool : IDisposable
{
    /// <summary>The most kept in memory.</summary>
    public const int MemoryLimit = 1 << 20;

    private const int ChunkSize = 64 * 1024;

    private MemoryStream? _memory = new();
    private FileStream? _file;

    /// <summary>Octets written.</summary>
    public long Length => _file?.Length ?? _memory!.Length;

    public void Write(ReadOnlySpan<byte> text)
    {
        if (_file is null && _memory!.Length + text.Length > MemoryLimit)
            SpillToFile();
        if (_file is not null)
            _file.Write(text);
        else
            _memory!.Write(text);
    }

    /// <summary>A line, with CRLF.</summary>
    public void WriteLine(ReadOnlySpan<byte> line)
    {
        Write(line);
        Write("\r\n"u8);
    }

    /// <summary>The message from its start, in chunks of at most 64 KiB, to <paramref name="sink"/>.</summary>
    public void CopyTo(Action<ReadOnlyMemory<byte>> sink)
    {
        if (_file is null)
        {
            ReadOnlyMemory<byte> all = _memory!.GetBuffer().AsMemory(0, (int)_memory.Length);
            for (int at = 0; at < all.Length; at += ChunkSize)
                sink(all.Slice(at, Math.Min(ChunkSize, all.Length - at)));
            return;
        }
        _file.Flush();
        byte[] buffer = new byte[ChunkSize];
        long position = 0;
        while (true)
        {
            int read = RandomAccess.Read(_file.SafeFileHandle, buffer, position);
            if (read == 0)
                return;
            sink(buffer.AsMemory(0, read));
            position += read;
        }
    }

    private void SpillToFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $".fastspool-sendmail.{Environment.ProcessId}.{Random.Shared.NextInt64():x16}");
        var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            BufferSize = ChunkSize,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        Libc.Unlink(path); // nameless from now on: gone when closed, or when the process dies
        file.Write(_memory!.GetBuffer().AsSpan(0, (int)_memory.Length));
        _memory = null;
        _file = file;
    }

    public void Dispose()
    {
        _file?.Dispose();
        _memory?.Dispose();
    }
}
