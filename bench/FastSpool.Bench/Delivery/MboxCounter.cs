using Microsoft.Win32.SafeHandles;

namespace FastSpool.Bench.Delivery;

/// <summary>
/// Counts <c>"From "</c> lines appended to an mbox file after the baseline, reading only the new bytes each time.
/// The file may not exist yet. If it shrinks (a mail reader expunged it), counting goes on from its new end.
/// A memory-mapped append extends the file before it copies the message in, so a reader that takes no lock can see a
/// tail of NULs for a moment: counting stops at the first NUL and reads that part again on the next poll.
/// </summary>
internal sealed class MboxCounter : IDeliveredCounter
{
    private readonly string _path;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly FromLineScanner _scanner;
    private SafeFileHandle? _file;
    private long _offset;

    public MboxCounter(string path)
    {
        _path = path;
        bool atLineStart = true;
        if (TryOpen())
        {
            _offset = RandomAccess.GetLength(_file!);
            if (_offset > 0)
            {
                Span<byte> last = stackalloc byte[1];
                atLineStart = RandomAccess.Read(_file!, last, _offset - 1) == 1 && last[0] == (byte)'\n';
            }
        }
        _scanner = new FromLineScanner(atLineStart);
    }

    public TimeSpan PollInterval => TimeSpan.FromMilliseconds(5);

    public long Count()
    {
        if (_file is null && !TryOpen())
            return 0;
        long length = RandomAccess.GetLength(_file!);
        if (length < _offset)
            _offset = length;
        while (_offset < length)
        {
            int read = RandomAccess.Read(_file!, _buffer.AsSpan(0, (int)Math.Min(_buffer.Length, length - _offset)), _offset);
            if (read <= 0)
                break;
            int filled = _buffer.AsSpan(0, read).IndexOf((byte)0);
            if (filled >= 0)
                read = filled;
            _scanner.Scan(_buffer.AsSpan(0, read));
            _offset += read;
            if (filled >= 0)
                break;
        }
        return _scanner.Count;
    }

    public void Dispose() => _file?.Dispose();

    private bool TryOpen()
    {
        try
        {
            _file = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return true;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }
}
