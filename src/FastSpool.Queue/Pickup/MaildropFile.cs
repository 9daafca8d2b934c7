using System.Globalization;
using System.Text;
using FastSpool.Protocols.Smtp;

namespace FastSpool.Queue.Pickup;

/// <summary>The layout of one maildrop file: a few envelope lines, an empty line, then the message in canonical
/// form (CRLF line ends, as the queue stores it).
/// <code>
/// FastSpool maildrop 1
/// sender alice@host            (empty for the null sender)
/// recipient bob@host 0         (the RFC 3461 NOTIFY flags as a number; one line per recipient)
/// ret 0                        (DsnReturn; optional)
/// envid text                   (optional)
/// 8bitmime                     (optional)
/// size 00000000000000012345    (the message's octets: written last, so a short file never matches it)
///
/// message...
/// </code>
/// A file is published only by rename after fsync, so a reader never sees one being written; <see cref="Read"/>
/// still checks everything (the size against the file's length above all) and calls anything else corrupt.</summary>
public static class MaildropFile
{
    private const string Magic = "FastSpool maildrop 1";
    private const int SizeDigits = 20;
    private const int MaxHeaderLine = 2048;

    /// <summary>Longest envelope part read before the message: a bound on what a corrupt file makes us read.</summary>
    private const int MaxHeader = 4 << 20;

    /// <summary>Writes the envelope lines; returns where the size's digits are, for <see cref="WriteSize"/>.</summary>
    public static long WriteEnvelope(Stream file, MaildropEnvelope envelope)
    {
        var text = new StringBuilder();
        text.Append(Magic).Append('\n');
        text.Append("sender ").Append(Checked(envelope.Sender)).Append('\n');
        foreach (MaildropRecipient recipient in envelope.Recipients)
            text.Append("recipient ").Append(Checked(recipient.Address)).Append(' ').Append(((int)recipient.Notify).ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (envelope.Return != DsnReturn.Unspecified)
            text.Append("ret ").Append(((int)envelope.Return).ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (envelope.EnvelopeId.Length > 0)
            text.Append("envid ").Append(Checked(envelope.EnvelopeId)).Append('\n');
        if (envelope.EightBitMime)
            text.Append("8bitmime\n");
        text.Append("size ");
        byte[] head = Encoding.UTF8.GetBytes(text.ToString());
        file.Write(head);
        long sizeAt = file.Position;
        file.Write(Encoding.ASCII.GetBytes(new string('0', SizeDigits) + "\n\n"));
        return sizeAt;
    }

    /// <summary>Fills in the message's size once it is all written.</summary>
    public static void WriteSize(Stream file, long sizeAt, long size)
    {
        long end = file.Position;
        file.Position = sizeAt;
        file.Write(Encoding.ASCII.GetBytes(size.ToString("D" + SizeDigits, CultureInfo.InvariantCulture)));
        file.Position = end;
    }

    private static string Checked(string value) =>
        value.AsSpan().IndexOfAny('\n', '\r') >= 0 || value.Contains('\0', StringComparison.Ordinal)
            ? throw new ArgumentException("a line break or NUL in an envelope field", nameof(value))
            : value;

    /// <summary>The most octets of an ENVID (RFC 3461 §4.4, as the SMTP server takes it).</summary>
    private const int MaxEnvelopeId = 100;

    /// <summary>Reads the envelope and leaves <paramref name="file"/> at the message's first octet; the message is
    /// the rest of the file. Everything is checked as the SMTP server checks it, since any local user can write a
    /// file into the shared maildrop without sendmail: the sender and each recipient as the paths of MAIL and RCPT,
    /// at most <paramref name="maxRecipients"/> of them, NOTIFY, RET and ENVID as their parameters, no CR or NUL
    /// anywhere in the envelope. Throws <see cref="InvalidDataException"/> saying what is wrong.</summary>
    public static MaildropEnvelope Read(Stream file, int maxRecipients, out long messageLength)
    {
        string? sender = null;
        var recipients = new List<MaildropRecipient>();
        DsnReturn ret = DsnReturn.Unspecified;
        string envid = "";
        bool eightBit = false;
        long size = -1;
        string first = ReadLine(file) ?? throw new InvalidDataException("empty file");
        if (first != Magic)
            throw new InvalidDataException("not a maildrop file (first line is not '" + Magic + "')");
        while (true)
        {
            string line = ReadLine(file) ?? throw new InvalidDataException("the file ends inside the envelope");
            if (line.Length == 0)
                break;
            if (file.Position > MaxHeader)
                throw new InvalidDataException("the envelope is longer than " + MaxHeader + " octets");
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            string key = space < 0 ? line : line[..space];
            string value = space < 0 ? "" : line[(space + 1)..];
            switch (key)
            {
                case "sender":
                    if (sender is not null || (value.Length > 0 && !IsPath("FROM:<" + value + "> SMTPUTF8", mail: true)))
                        throw new InvalidDataException("bad sender line: " + line);
                    sender = value;
                    break;
                case "recipient":
                    int last = value.LastIndexOf(' ');
                    if (last <= 0 || !byte.TryParse(value.AsSpan(last + 1), NumberStyles.None, CultureInfo.InvariantCulture, out byte notify)
                        || !IsNotify((DsnNotify)notify) || !IsPath("TO:<" + value[..last] + ">", mail: false))
                    {
                        throw new InvalidDataException("bad recipient line: " + line);
                    }
                    if (recipients.Count == maxRecipients)
                        throw new InvalidDataException($"more than {maxRecipients} recipients (Smtp:MaxRecipients)");
                    recipients.Add(new MaildropRecipient(value[..last], (DsnNotify)notify));
                    break;
                case "ret":
                    ret = value switch { "1" => DsnReturn.Full, "2" => DsnReturn.Headers, _ => throw new InvalidDataException("bad ret line: " + line) };
                    break;
                case "envid":
                    if (value.Length is 0 or > MaxEnvelopeId || value.AsSpan().ContainsAnyExceptInRange(' ', '~'))
                        throw new InvalidDataException("bad envid line: " + line);
                    envid = value;
                    break;
                case "8bitmime":
                    eightBit = true;
                    break;
                case "size":
                    if (value.Length != SizeDigits || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out size))
                        throw new InvalidDataException("bad size line: " + line);
                    break;
                default:
                    throw new InvalidDataException("unknown envelope line: " + line);
            }
        }
        if (sender is null)
            throw new InvalidDataException("no sender line");
        if (recipients.Count == 0)
            throw new InvalidDataException("no recipient");
        messageLength = file.Length - file.Position;
        if (size != messageLength)
            throw new InvalidDataException(size < 0 ? "no size line" : $"the message has {messageLength} octets, the envelope says {size}");
        return new MaildropEnvelope(sender, recipients, ret, envid, eightBit);
    }

    /// <summary>One LF-ended line as UTF-8 (well-formed, without CR or NUL); null at the end of the file.</summary>
    private static string? ReadLine(Stream file)
    {
        Span<byte> line = stackalloc byte[MaxHeaderLine];
        int n = 0;
        while (true)
        {
            int b = file.ReadByte();
            if (b < 0)
                return n == 0 ? null : throw new InvalidDataException("the file ends inside the envelope");
            if (b == '\n')
            {
                if (!System.Text.Unicode.Utf8.IsValid(line[..n]))
                    throw new InvalidDataException("an envelope line that is not UTF-8");
                return Encoding.UTF8.GetString(line[..n]);
            }
            if (b is '\r' or 0)
                throw new InvalidDataException("a CR or NUL in the envelope");
            if (n == line.Length)
                throw new InvalidDataException("an envelope line longer than " + MaxHeaderLine + " octets");
            line[n++] = (byte)b;
        }
    }

    /// <summary>Whether the argument of a MAIL or RCPT command holding the address parses as the server parses it.</summary>
    private static bool IsPath(string argument, bool mail)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(argument);
        return mail
            ? SmtpCommandParser.TryParseMailFrom(bytes, out _) == ArgumentError.None
            : SmtpCommandParser.TryParseRcptTo(bytes, allowUtf8: true, out _) == ArgumentError.None;
    }

    /// <summary>RFC 3461 NOTIFY: none, NEVER alone, or any of SUCCESS, FAILURE and DELAY.</summary>
    private static bool IsNotify(DsnNotify notify) =>
        notify is DsnNotify.None or DsnNotify.Never || (notify & ~(DsnNotify.Success | DsnNotify.Failure | DsnNotify.Delay)) == 0;
}
