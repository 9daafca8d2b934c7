using System.Buffers;
using System.Globalization;
using FastSpool.Queue;

namespace FastSpool.Server.Smtp;

/// <summary>The trace header prepended to every message (RFC 5321 §4.4), in Postfix's layout:
/// <c>Received: from helo ([1.2.3.4])\r\n\t(using TLSv1.3 with cipher ...)\r\n\t(Authenticated sender: alice)\r\n\tby host (FastSpool) with ESMTP id ID\r\n\tfor &lt;rcpt&gt;; date</c>.
/// The HELO name is the client's word: it stands as the From-domain only when it is a host name or an address
/// literal. Anything else goes into the comment as <c>from [1.2.3.4] (helo=name)</c> with every octet that could end
/// the comment, quote, or start another clause replaced by <c>?</c>, so it cannot forge the trace.</summary>
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

        /// <summary>The TLS of the connection, written as Postfix does: <c>(using TLSv1.3 with cipher
        /// TLS_AES_256_GCM_SHA384 (256/256 bits))</c>; empty: none.</summary>
        public ReadOnlySpan<byte> Tls { get; init; }

        /// <summary>The SMTP AUTH name, written as Postfix does: <c>(Authenticated sender: alice)</c>; empty: none.</summary>
        public ReadOnlySpan<byte> AuthenticatedSender { get; init; }
    }

    public static int Write(Span<byte> destination, in Fields f)
    {
        var w = new SpanWriter(destination);
        w.Write("Received: from "u8);
        if (f.Helo.IsEmpty || IsDomainOrAddressLiteral(f.Helo))
        {
            w.Write(f.Helo.IsEmpty ? "unknown"u8 : f.Helo);
            w.Write(" (["u8);
            w.Write(f.ClientAddress);
            w.Write("])"u8);
        }
        else
        {
            w.Write("["u8);
            w.Write(f.ClientAddress);
            w.Write("] (helo="u8);
            w.WriteReplacingUnsafe(f.Helo);
            w.Write(")"u8);
        }
        if (!f.Tls.IsEmpty)
        {
            // Made by the server from the protocol and cipher suite names: no octet of it comes from the client.
            w.Write("\r\n\t(using "u8);
            w.Write(f.Tls);
            w.Write(")"u8);
        }
        if (!f.AuthenticatedSender.IsEmpty)
        {
            // A user name is of a-z 0-9 . _ - only (UserName), so it cannot end the comment.
            w.Write("\r\n\t(Authenticated sender: "u8);
            w.WriteReplacingUnsafe(f.AuthenticatedSender);
            w.Write(")"u8);
        }
        w.Write("\r\n\tby "u8);
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

    /// <summary>The trace header of a local submission (sendmail), in Postfix's layout:
    /// <c>Received: by host (FastSpool sendmail, from userid 1000)\r\n\tid ID; date</c>. The uid is the kernel's
    /// word (SO_PEERCRED, or the maildrop file's owner), never the submitter's.</summary>
    public static int WriteLocal(Span<byte> destination, ReadOnlySpan<byte> hostname, uint userId, QueueId id, DateTimeOffset time)
    {
        var w = new SpanWriter(destination);
        w.Write("Received: by "u8);
        w.Write(hostname);
        w.Write(" (FastSpool sendmail, from userid "u8);
        userId.TryFormat(w.Free, out int n, default, CultureInfo.InvariantCulture);
        w.Advance(n);
        w.Write(")\r\n\tid "u8);
        id.TryFormat(w.Free, out n);
        w.Advance(n);
        w.Write("; "u8);
        w.Advance(WriteDate(w.Free, time));
        w.Write("\r\n"u8);
        return w.Position;
    }

    // Octets of a HELO name copied into the comment as they are; the rest become '?'. No '(' ')' '\\' (they end or
    // escape the comment), no '"' '<' '>' ';' (quotes, paths and the date's separator), nothing outside ASCII.
    private static readonly SearchValues<byte> CommentSafe =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._:[]@=+/#!$%&*^_{}|~'`?,"u8);

    private static readonly SearchValues<byte> HostnameOctets =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"u8);

    private static readonly SearchValues<byte> LiteralOctets =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.:"u8);

    /// <summary>A host name (RFC 1035 labels of letters, digits and hyphens, underscores tolerated as clients send
    /// them) or an address literal (RFC 5321 §4.1.3: <c>[192.0.2.1]</c>, <c>[IPv6:2001:db8::1]</c>).</summary>
    internal static bool IsDomainOrAddressLiteral(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name.Length > 255)
            return false;
        if (name.Length > 2 && name[0] == (byte)'[' && name[^1] == (byte)']')
            return !name[1..^1].ContainsAnyExcept(LiteralOctets);
        if (name[^1] == (byte)'.')
            name = name[..^1]; // a fully qualified name's root
        while (true)
        {
            int dot = name.IndexOf((byte)'.');
            ReadOnlySpan<byte> label = dot < 0 ? name : name[..dot];
            if (label.IsEmpty || label.Length > 63 || label[0] == (byte)'-' || label[^1] == (byte)'-' || label.ContainsAnyExcept(HostnameOctets))
                return false;
            if (dot < 0)
                return true;
            name = name[(dot + 1)..];
        }
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

        public void WriteReplacingUnsafe(ReadOnlySpan<byte> bytes)
        {
            Span<byte> destination = _buffer.Slice(Position, bytes.Length);
            bytes.CopyTo(destination);
            for (int i = destination.IndexOfAnyExcept(CommentSafe); i >= 0; i = destination.IndexOfAnyExcept(CommentSafe))
                destination[i] = (byte)'?';
            Position += bytes.Length;
        }
    }
}
