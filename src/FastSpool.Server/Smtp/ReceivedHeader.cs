using System.Globalization;
using FastSpool.Queue;

namespace FastSpool.Server.Smtp;

/// <summary>The trace header prepended to every message (RFC 5321 §4.4), in Postfix's layout:
/// <c>Received: from helo ([1.2.3.4])\r\n\tby host (FastSpool) with ESMTP id ID\r\n\tfor &lt;rcpt&gt;; date</c>.</summary>
internal static class ReceivedHeader
{
    public const int MaxLength = 4 * 512;

    public readonly ref struct Fields
    {
        public required ReadOnlySpan<byte> Helo { get; init; }
        public required ReadOnlySpan<byte> ClientAddress { get; init; }
        public required ReadOnlySpan<byte> Hostname { get; init; }
        public required ReadOnlySpan<byte> Protocol { get; init; }
        public required QueueId Id { get; init; }
        public required ReadOnlySpan<byte> Recipient { get; init; }
        public required DateTimeOffset Time { get; init; }
    }

    public static int Write(Span<byte> destination, in Fields f)
    {
        var w = new SpanWriter(destination);
        w.Write("Received: from "u8);
        w.Write(f.Helo.IsEmpty ? "unknown"u8 : f.Helo);
        w.Write(" (["u8);
        w.Write(f.ClientAddress);
        w.Write("])\r\n\tby "u8);
        w.Write(f.Hostname);
        w.Write(" (FastSpool) with "u8);
        w.Write(f.Protocol);
        w.Write(" id "u8);
        f.Id.TryFormat(w.Free, out int n);
        w.Advance(n);
        if (!f.Recipient.IsEmpty)
        {
            w.Write("\r\n\tfor <"u8);
            w.Write(f.Recipient);
            w.Write(">"u8);
        }
        w.Write("; "u8);
        w.Advance(WriteDate(w.Free, f.Time));
        w.Write("\r\n"u8);
        return w.Position;
    }

    /// <summary>RFC 5322 §3.3 date-time: <c>Tue, 24 Nov 2026 17:02:50 +0000</c>.</summary>
    public static int WriteDate(Span<byte> destination, DateTimeOffset time)
    {
        time.TryFormat(destination, out int n, "ddd, dd MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture);
        TimeSpan offset = time.Offset;
        destination[n++] = offset < TimeSpan.Zero ? (byte)'-' : (byte)'+';
        offset = offset.Duration();
        ((offset.Hours * 100) + offset.Minutes).TryFormat(destination[n..], out int m, "D4", CultureInfo.InvariantCulture);
        return n + m;
    }

    private ref struct SpanWriter(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;

        public int Position { get; private set; }

        public readonly Span<byte> Free => _buffer[Position..];

        public void Write(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_buffer[Position..]);
            Position += bytes.Length;
        }

        public void Advance(int count) => Position += count;
    }
}
