// RFC 5322 §3.3 (date-time), §3.6 (From, To, Subject, Date, Message-ID); RFC 5321 §4.1.1.2-4 (MAIL, RCPT, DATA),
// RFC 3030 §2 (BDAT n LAST).
using System.Globalization;
using System.Text;

namespace FastSpool.Bench.Messages;

/// <summary>
/// Builds the run's messages once: a header template whose only per-message part is a fixed-width number (in the
/// Subject and the Message-ID), stamped into each session's own copy, and one shared body per size, with lines of
/// 78 characters plus CRLF as smtp-source writes them.
/// </summary>
internal sealed class MessageFactory
{
    public const int MaxBodySize = 256 << 20;
    public const int NumberWidth = 10;
    public const int LineLength = 78;

    private static ReadOnlySpan<byte> LineAlphabet => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"u8;

    private readonly byte[] _header;
    private readonly int _subjectNumberAt;
    private readonly int _messageIdNumberAt;
    private readonly MessageBody[] _bodies;

    public MessageFactory(string from, string to, SizeMix sizes, DateTimeOffset date, string runId)
    {
        Sizes = sizes;
        string zeros = new('0', NumberWidth);
        string beforeSubject = $"From: <{from}>\r\nTo: <{to}>\r\nSubject: fastspool-bench message ";
        string beforeId = $"{beforeSubject}{zeros}\r\nDate: {FormatDate(date)}\r\nMessage-ID: <";
        string header = $"{beforeId}{zeros}.{runId}@fastspool-bench.invalid>\r\n\r\n";
        _header = Encoding.ASCII.GetBytes(header);
        _subjectNumberAt = beforeSubject.Length;
        _messageIdNumberAt = beforeId.Length;

        MailCommand = Encoding.ASCII.GetBytes($"MAIL FROM:<{from}>\r\n");
        RcptCommand = Encoding.ASCII.GetBytes($"RCPT TO:<{to}>\r\n");

        _bodies = new MessageBody[sizes.Count];
        for (int i = 0; i < sizes.Count; i++)
        {
            byte[] text = BuildBody(sizes.SizeAt(i));
            byte[] dataText = DotStuffing.Stuff(text);
            int length = _header.Length + text.Length;
            _bodies[i] = new MessageBody
            {
                Size = text.Length,
                Text = text,
                // Generated lines never start with '.', so the stuffed text is usually the body plus ".CRLF".
                DataText = dataText,
                BdatCommand = Encoding.ASCII.GetBytes($"BDAT {length} LAST\r\n"),
                MessageLength = length,
            };
        }
    }

    public SizeMix Sizes { get; }

    public ReadOnlySpan<byte> HeaderTemplate => _header;

    public byte[] MailCommand { get; }

    public byte[] RcptCommand { get; }

    public MessageBody BodyFor(long number) => _bodies[Sizes.IndexFor(number)];

    public MessageBody BodyAt(int sizeIndex) => _bodies[sizeIndex];

    /// <summary>Writes <paramref name="number"/> into a copy of <see cref="HeaderTemplate"/>.</summary>
    public void Stamp(Span<byte> header, long number)
    {
        WriteNumber(header.Slice(_subjectNumberAt, NumberWidth), number);
        WriteNumber(header.Slice(_messageIdNumberAt, NumberWidth), number);
    }

    /// <summary>Message <paramref name="number"/> as the server must store it: header and body.</summary>
    public byte[] Compose(long number)
    {
        MessageBody body = BodyFor(number);
        var message = new byte[body.MessageLength];
        _header.CopyTo(message, 0);
        Stamp(message, number);
        body.Text.Span.CopyTo(message.AsSpan(_header.Length));
        return message;
    }

    /// <summary>
    /// Exactly <paramref name="size"/> bytes of CRLF-ended lines of at most 78 characters: full lines, then a shorter
    /// last one; when one byte would be left over (no room for its CRLF) the last full line and it become two lines
    /// of 38 and 39 characters.
    /// </summary>
    public static byte[] BuildBody(int size)
    {
        if (size is 1 or < 0 or > MaxBodySize)
            throw new ArgumentOutOfRangeException(nameof(size), size, "a body is 0 or 2..256MiB bytes");
        const int FullLine = LineLength + 2;
        var body = new byte[size];
        int fullLines = size / FullLine;
        int rest = size % FullLine;
        if (rest == 1)
            fullLines--;
        int at = 0;
        int line = 0;
        for (; line < fullLines; line++)
            at = WriteLine(body, at, line, LineLength);
        if (rest == 1)
        {
            at = WriteLine(body, at, line++, 38);
            at = WriteLine(body, at, line, 39);
        }
        else if (rest > 0)
        {
            at = WriteLine(body, at, line, rest - 2);
        }
        return at == size ? body : throw new InvalidOperationException("body layout");
    }

    /// <summary>RFC 5322 date-time, <c>Tue, 24 Nov 2026 17:19:20 +0000</c>.</summary>
    public static string FormatDate(DateTimeOffset date)
    {
        TimeSpan offset = date.Offset;
        char sign = offset < TimeSpan.Zero ? '-' : '+';
        offset = offset.Duration();
        return string.Create(CultureInfo.InvariantCulture,
            $"{date.ToString("ddd, dd MMM yyyy HH:mm:ss", CultureInfo.InvariantCulture)} {sign}{offset.Hours:D2}{offset.Minutes:D2}");
    }

    private static int WriteLine(byte[] body, int at, int line, int length)
    {
        ReadOnlySpan<byte> alphabet = LineAlphabet;
        for (int j = 0; j < length; j++)
            body[at + j] = alphabet[(line + j) % alphabet.Length];
        body[at + length] = (byte)'\r';
        body[at + length + 1] = (byte)'\n';
        return at + length + 2;
    }

    private static void WriteNumber(Span<byte> field, long number)
    {
        for (int i = field.Length - 1; i >= 0; i--)
        {
            field[i] = (byte)('0' + (int)(number % 10));
            number /= 10;
        }
    }
}
