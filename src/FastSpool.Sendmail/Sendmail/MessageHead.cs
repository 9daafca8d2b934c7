using System.Globalization;
using System.Text;
using MimeKit;

namespace FastSpool.Cli.Sendmail;

/// <summary>The header section of the message on standard input, read whole (it is small and bounded) and completed
/// as Postfix's cleanup completes a local submission: a missing From:, Date: or Message-ID: is added, Bcc: is
/// removed; with -t its To, Cc and Bcc addresses are the recipients (parsed by MimeKit: groups, comments, encoded
/// names), or, in a message being resent, its Resent- ones. The body is not read here. A leading mbox <c>From </c> line is dropped, as
/// sendmail drops it; a first line that is not a header field starts the body.</summary>
internal sealed class MessageHead
{
    /// <summary>The most header text taken (Postfix's header_size_limit is 100 KiB; this is roomier).</summary>
    public const int MaxHeaderSize = 1 << 20;

    private readonly List<(string Name, List<byte[]> Lines)> _fields = [];

    /// <summary>The first line of the body when the head ended without an empty line (a line that is no header).</summary>
    public byte[]? FirstBodyLine { get; private set; }

    /// <summary>True when the input ended within the head (no body at all).</summary>
    public bool EndOfInput { get; private set; }

    public static MessageHead Read(MessageLines lines)
    {
        lines.FoldAtWhitespace = true;
        try
        {
            return ReadFields(lines);
        }
        finally
        {
            lines.FoldAtWhitespace = false;
        }
    }

    private static MessageHead ReadFields(MessageLines lines)
    {
        var head = new MessageHead();
        int size = 0;
        bool first = true;
        while (true)
        {
            if (!lines.TryRead(out ReadOnlyMemory<byte> memory))
            {
                head.EndOfInput = true;
                return head;
            }
            ReadOnlySpan<byte> line = memory.Span;
            if (first && line.StartsWith("From "u8))
            {
                first = false;
                continue;
            }
            first = false;
            if (line.IsEmpty)
                return head;
            size += line.Length + 2;
            if (size > MaxHeaderSize)
                throw new InvalidDataException($"the header section is longer than {MaxHeaderSize} octets");
            if ((line[0] == (byte)' ' || line[0] == (byte)'\t') && head._fields.Count > 0)
            {
                head._fields[^1].Lines.Add(line.ToArray());
                continue;
            }
            int colon = line.IndexOf((byte)':');
            if (colon <= 0 || line[..colon].IndexOfAnyExceptInRange((byte)33, (byte)126) >= 0)
            {
                // Not a header field: the body begins here (Postfix does the same).
                head.FirstBodyLine = line.ToArray();
                return head;
            }
            head._fields.Add((Encoding.ASCII.GetString(line[..colon]), [line.ToArray()]));
        }
    }

    public bool Has(string name) => _fields.Exists(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether the message is being resent (a <c>Resent-</c> field is present, RFC 5322 §3.6.6): its
    /// recipients are then the Resent-To, Resent-Cc and Resent-Bcc addresses, and the fields added are the Resent-
    /// ones, as sendmail and Postfix's cleanup treat it.</summary>
    public bool Resent => _fields.Exists(f => f.Name.StartsWith("Resent-", StringComparison.OrdinalIgnoreCase));

    private string Prefix => Resent ? "Resent-" : "";

    /// <summary>The addresses in the To, Cc and Bcc fields (for -t), in order; the Resent-To, Resent-Cc and
    /// Resent-Bcc fields of a message being resent.</summary>
    public List<string> HeaderRecipients()
    {
        var addresses = new List<string>();
        string prefix = Prefix;
        foreach ((string name, List<byte[]> lines) in _fields)
        {
            if (!(name.Equals(prefix + "To", StringComparison.OrdinalIgnoreCase) || name.Equals(prefix + "Cc", StringComparison.OrdinalIgnoreCase)
                || name.Equals(prefix + "Bcc", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }
            byte[] value = Value(lines, name.Length + 1);
            if (!InternetAddressList.TryParse(ParserOptions.Default, value, out InternetAddressList? list))
                throw new InvalidDataException($"{name}: cannot read the addresses in '{Encoding.UTF8.GetString(value).Trim()}'");
            foreach (MailboxAddress mailbox in list.Mailboxes)
                addresses.Add(mailbox.Address);
        }
        return addresses;
    }

    /// <summary>A field's value, unfolded (the line breaks of its continuation lines taken out).</summary>
    private static byte[] Value(List<byte[]> lines, int skip)
    {
        var value = new List<byte>();
        for (int i = 0; i < lines.Count; i++)
            value.AddRange(i == 0 ? lines[i].AsSpan(skip).ToArray() : lines[i]);
        return [.. value];
    }

    /// <summary>The head as it is stored: the fields (Bcc: and Resent-Bcc: removed), then the missing From:, Date: and
    /// Message-ID: (From: with the envelope sender and <paramref name="fullName"/>); for a message being resent, the
    /// missing Resent-From:, Resent-Date: and Resent-Message-ID: instead, placed first, beside the resent block that
    /// is at the top (RFC 5322 §3.6.6); each line ending in CRLF, then the empty line.</summary>
    public byte[] Complete(string sender, string? fullName, string hostname, DateTimeOffset now)
    {
        var added = new MemoryStream();
        string prefix = Prefix;
        if (!Has(prefix + "From"))
        {
            string from = sender.Length == 0 ? "MAILER-DAEMON" : sender;
            string value = string.IsNullOrEmpty(fullName) ? from : new MailboxAddress(fullName, from).ToString(encode: true);
            added.Write(Encoding.UTF8.GetBytes(prefix + "From: " + value + "\r\n"));
        }
        if (!Has(prefix + "Date"))
            added.Write(Encoding.ASCII.GetBytes(prefix + "Date: " + MimeKit.Utils.DateUtils.FormatDate(now) + "\r\n"));
        if (!Has(prefix + "Message-ID"))
        {
            // Unique, not secret: 64 random bits from the shared generator, which (unlike the cryptographic one) does
            // not load OpenSSL, a few milliseconds of a sendmail run.
            string id = string.Create(CultureInfo.InvariantCulture, $"{now.UtcDateTime:yyyyMMddHHmmss}.{Random.Shared.NextInt64():X16}@{hostname}");
            added.Write(Encoding.ASCII.GetBytes(prefix + "Message-ID: <" + id + ">\r\n"));
        }
        var text = new MemoryStream();
        if (Resent)
            added.WriteTo(text);
        foreach ((string name, List<byte[]> lines) in _fields)
        {
            if (name.Equals("Bcc", StringComparison.OrdinalIgnoreCase) || name.Equals("Resent-Bcc", StringComparison.OrdinalIgnoreCase))
                continue;
            foreach (byte[] line in lines)
            {
                text.Write(line);
                text.Write("\r\n"u8);
            }
        }
        if (!Resent)
            added.WriteTo(text);
        text.Write("\r\n"u8);
        if (FirstBodyLine is not null)
        {
            text.Write(FirstBodyLine);
            text.Write("\r\n"u8);
        }
        return text.ToArray();
    }

    /// <summary>True when the head says the body is 8-bit (or the head itself is not ASCII).</summary>
    public bool LooksEightBit()
    {
        foreach ((string name, List<byte[]> lines) in _fields)
        {
            foreach (byte[] line in lines)
            {
                if (!System.Text.Ascii.IsValid(line))
                    return true;
            }
            if (name.Equals("Content-Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                string value = Encoding.ASCII.GetString(Value(lines, name.Length + 1)).Trim();
                if (value.Equals("8bit", StringComparison.OrdinalIgnoreCase) || value.Equals("binary", StringComparison.OrdinalIgnoreCase))
                    return true;
            }
        }
        return false;
    }
}
