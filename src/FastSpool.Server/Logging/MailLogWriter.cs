using FastSpool.Logging;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Logging;

/// <summary>The bytes of the mail log on their way to the output: lines are copied into one pending buffer under a
/// lock, and a writer thread swaps it for an empty one and writes everything that piled up in one write. Nothing is
/// allocated per line. If the output stops taking lines (a blocked pipe), at most <see cref="MaxPending"/> bytes wait;
/// further lines are counted, and the count is logged once the output moves again.</summary>
internal sealed class MailLogWriter : IDisposable
{
    internal const int MaxPending = 16 * 1024 * 1024;

    /// <summary>Room for <see cref="WritePrefix"/>: the time, a component name of up to 40 bytes and the level.</summary>
    internal const int MaxPrefix = 96;
    private const int InitialBuffer = 64 * 1024;

    private readonly object _gate = new();
    private readonly Stream _output;
    private readonly Thread _thread;
    private readonly int _maxPending;
    private byte[] _pending;
    private byte[] _writing;
    private int _pendingLength;
    private long _dropped;
    private long _droppedReported;
    private bool _stopping;
    private bool _broken;

    public MailLogWriter(Stream output, int maxPending = MaxPending, int initialBuffer = InitialBuffer)
    {
        _output = output;
        _maxPending = maxPending;
        _pending = new byte[initialBuffer];
        _writing = new byte[initialBuffer];
        _thread = new Thread(WriteLoop) { IsBackground = true, Name = "mail log" };
        _thread.Start();
    }

    /// <summary>Lines dropped because the output did not keep up (or is gone).</summary>
    public long Dropped
    {
        get
        {
            lock (_gate)
                return _dropped;
        }
    }

    /// <summary>Queues one whole line (with its newline) for writing.</summary>
    public void Append(ReadOnlySpan<byte> line) => Append(line, [], newline: false);

    /// <summary>Queues <paramref name="prefix"/>, <paramref name="text"/> and a newline as one line.</summary>
    public void Append(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> text) => Append(prefix, text, newline: true);

    private void Append(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> text, bool newline)
    {
        int length = prefix.Length + text.Length + (newline ? 1 : 0);
        lock (_gate)
        {
            if (_broken || _pendingLength + length > _maxPending)
            {
                _dropped++;
                return;
            }
            if (_pendingLength + length > _pending.Length)
                Array.Resize(ref _pending, Math.Min(_maxPending, Math.Max(_pending.Length * 2, _pendingLength + length)));
            Span<byte> room = _pending.AsSpan(_pendingLength, length);
            prefix.CopyTo(room);
            text.CopyTo(room[prefix.Length..]);
            if (newline)
                room[^1] = (byte)'\n';
            bool wasEmpty = _pendingLength == 0;
            _pendingLength += length;
            if (wasEmpty)
                Monitor.Pulse(_gate);
        }
    }

    private void WriteLoop()
    {
        while (true)
        {
            int length;
            long dropped;
            lock (_gate)
            {
                while (_pendingLength == 0 && !_stopping)
                    Monitor.Wait(_gate);
                if (_pendingLength == 0)
                    return;
                (_pending, _writing) = (_writing, _pending);
                length = _pendingLength;
                _pendingLength = 0;
                dropped = _dropped - _droppedReported;
                _droppedReported = _dropped;
            }
            try
            {
                _output.Write(_writing, 0, length);
                if (dropped > 0)
                    WriteDroppedCount(dropped);
                _output.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
            {
                // The output is gone (a closed pipe): there is nowhere left to log to.
                lock (_gate)
                {
                    _broken = true;
                    _pendingLength = 0;
                }
                return;
            }
        }
    }

    private void WriteDroppedCount(long dropped)
    {
        Span<byte> line = stackalloc byte[MaxPrefix + 128];
        int n = WritePrefix(line, DateTime.UtcNow, "fastspool"u8, LogLevel.Warning);
        ReadOnlySpan<byte> head = "mail log: "u8, tail = " lines were dropped while the log output was blocked\n"u8;
        head.CopyTo(line[n..]);
        n += head.Length;
        dropped.TryFormat(line[n..], out int digits, provider: CultureInfo.InvariantCulture);
        n += digits;
        tail.CopyTo(line[n..]);
        n += tail.Length;
        _output.Write(line[..n]);
    }

    /// <summary>Writes <c>2026-11-24T17:02:50.123Z smtpd info: </c>; returns its length.</summary>
    internal static int WritePrefix(Span<byte> destination, DateTime utc, ReadOnlySpan<byte> component, LogLevel level)
    {
        utc.TryFormat(destination, out int n, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        destination[n++] = (byte)' ';
        component.CopyTo(destination[n..]);
        n += component.Length;
        destination[n++] = (byte)' ';
        ReadOnlySpan<byte> name = level switch
        {
            LogLevel.Trace => "trace"u8,
            LogLevel.Debug => "debug"u8,
            LogLevel.Information => "info"u8,
            LogLevel.Warning => "warning"u8,
            LogLevel.Error => "error"u8,
            LogLevel.Critical => "fatal"u8,
            _ => "none"u8,
        };
        name.CopyTo(destination[n..]);
        n += name.Length;
        ": "u8.CopyTo(destination[n..]);
        return n + 2;
    }

    /// <summary>Writes what is pending, then stops (waits at most 5 seconds for a blocked output).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        _thread.Join(TimeSpan.FromSeconds(5));
    }
}
