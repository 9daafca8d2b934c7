using System.Text;
using FastSpool.Configuration;
using FastSpool.Posix;
using FastSpool.Protocols.Smtp;
using FastSpool.Queue.Pickup;
using MimeKit;

namespace FastSpool.Cli.Sendmail;

/// <summary><c>fastspool sendmail</c>, and the program called <c>sendmail</c>, <c>mailq</c> or <c>newaliases</c>
/// through a link. A message goes to the running server over the submission socket (SMTP on a Unix socket; the
/// server takes the submitter's uid from the kernel and answers after the commit), or, when no server answers
/// there, into the maildrop. Exit 0 means the message is safe; otherwise a sysexits code and one line saying why.</summary>
internal sealed partial class SendmailCommand(SendmailArguments arguments, FastSpoolOptions options, Terminal terminal)
{
    /// <summary>Runs sendmail with <paramref name="args"/> (the words after <c>sendmail</c>); -bp and -q are the
    /// <c>mailq</c> and <c>flush</c> verbs, run by <paramref name="adminVerb"/>.</summary>
    public static int Run(IReadOnlyList<string> args, SendmailMode mode, Terminal terminal, AdminVerb adminVerb)
    {
        SendmailArguments? arguments = SendmailArguments.Parse(args, mode, out string? error);
        if (arguments is null)
        {
            terminal.Error.WriteLine("sendmail: " + error);
            terminal.Error.WriteLine("usage: sendmail [-t] [-i] [-f sender] [-F name] [-N dsn] [-R ret] [-V envid] [-v] [-bm|-bp|-bs|-bv|-bi] [-q|-qI id] [recipient ...]");
            return ExitCode.Usage;
        }
        if (arguments.Mode == SendmailMode.ListQueue)
            return adminVerb(["mailq", .. arguments.Settings], terminal);
        if (arguments.Mode == SendmailMode.Flush)
            return adminVerb(["flush", .. arguments.FlushId is null ? (string[])[] : [arguments.FlushId], .. arguments.Settings], terminal);
        FastSpoolOptions options;
        try
        {
            options = Settings.Load([.. arguments.Settings]);
        }
        catch (SettingsException e)
        {
            terminal.Error.WriteLine("sendmail: configuration error: " + e.Message);
            return ExitCode.Config;
        }
        var command = new SendmailCommand(arguments, options, terminal);
        try
        {
            return arguments.Mode switch
            {
                SendmailMode.Smtp => command.RelaySmtp(),
                SendmailMode.Verify => command.Verify(),
                SendmailMode.Newaliases => command.Newaliases(),
                _ => command.Deliver(),
            };
        }
        catch (IOException e)
        {
            return command.Fail(ExitCode.IoError, e.Message);
        }
    }

    private int Fail(int exitCode, string message)
    {
        terminal.Error.WriteLine("sendmail: " + message);
        return exitCode;
    }

    private void Say(string line)
    {
        if (arguments.Verbose)
            terminal.Error.WriteLine("sendmail: " + line);
    }

    private Stream OpenInput() => terminal.OpenInput?.Invoke() ?? new MemoryStream(Encoding.UTF8.GetBytes(terminal.In.ReadToEnd()));

    private LocalSmtpClient? Connect(out string why) =>
        LocalSmtpClient.TryConnect(options.Sendmail.Socket!, arguments.Verbose ? Say : null, out why);

    /// <summary>The domain that completes a bare user name and the invoking user's address: Smtp:Hostname when it is
    /// a local domain (as Postfix's myorigin), else the first local domain.</summary>
    private string Origin => options.LocalDomains!.Exists(d => d.Equals(options.Smtp.Hostname, StringComparison.OrdinalIgnoreCase))
        ? options.Smtp.Hostname!
        : options.LocalDomains![0];

    /// <summary>-bm: the message on standard input to its recipients.</summary>
    private int Deliver()
    {
        foreach (string ignored in arguments.Ignored)
            Say("ignored: " + ignored);
        using Stream input = OpenInput();
        var lines = new MessageLines(input, arguments.IgnoreDots, options.Smtp.MaxLineLength);
        MessageHead head;
        List<string> recipients;
        try
        {
            head = MessageHead.Read(lines);
            recipients = Recipients(head);
        }
        catch (InvalidDataException e)
        {
            return Fail(ExitCode.DataError, e.Message);
        }
        catch (FormatException e)
        {
            return Fail(ExitCode.Usage, e.Message);
        }
        if (recipients.Count == 0)
        {
            return arguments.RecipientsFromHeaders
                ? Fail(ExitCode.DataError, "no recipients: none given, and no To, Cc or Bcc address in the message")
                : Fail(ExitCode.Usage, "no recipients given (name them, or use -t to take them from the message)");
        }
        string? sender = arguments.Sender;
        if (sender is null)
        {
            uint uid = Libc.GetRealUserId();
            sender = Libc.UserNameOf(uid) is { } login ? login + "@" + Origin : null;
            if (sender is null)
                return Fail(ExitCode.NoUser, $"no login name for uid {uid}; give the sender with -f");
        }
        if (sender.Length > 0 && !sender.Contains('@', StringComparison.Ordinal))
            sender += "@" + Origin;
        byte[] completed = head.Complete(sender, arguments.FullName, options.Smtp.Hostname!, DateTimeOffset.Now);
        var envelope = new MaildropEnvelope(sender, [.. recipients.Select(r => new MaildropRecipient(r, arguments.Notify))],
            arguments.Return, arguments.EnvelopeId ?? "", head.LooksEightBit());
        // The whole message is read before anything is sent: a server that fails on the way leaves it for the maildrop.
        using var spool = new MessageSpool();
        spool.Write(completed);
        if (CopyBody(lines, completed.Length, spool.WriteLine) is { } refused)
            return refused;
        if (lines.LinesBroken > 0)
            Say($"{lines.LinesBroken} lines longer than {options.Smtp.MaxLineLength - 2} characters were broken, the rest of each on lines that start with a space");
        using LocalSmtpClient? client = Connect(out string why);
        if (client is not null)
        {
            int? done = Submit(client, envelope, spool, out why);
            if (done is { } exitCode)
                return exitCode;
        }
        Say($"the server did not take the message ({why}); dropping it into the maildrop");
        return Drop(envelope, spool, why);
    }

    /// <summary>The envelope recipients: the arguments (each may be a list, <c>a@x, Bob &lt;b@y&gt;</c>), then with -t
    /// the header addresses; a bare name gets the origin domain; each once.</summary>
    private List<string> Recipients(MessageHead head)
    {
        var all = new List<string>();
        foreach (string arg in arguments.Recipients)
        {
            if (!InternetAddressList.TryParse(arg, out InternetAddressList? list) || !list.Mailboxes.Any())
                throw new FormatException($"'{arg}' is not an address");
            all.AddRange(list.Mailboxes.Select(m => m.Address));
        }
        if (arguments.RecipientsFromHeaders)
            all.AddRange(head.HeaderRecipients());
        var unique = new List<string>();
        foreach (string address in all)
        {
            string qualified = address.Contains('@', StringComparison.Ordinal) ? address : address + "@" + Origin;
            if (!unique.Exists(u => u.Equals(qualified, StringComparison.OrdinalIgnoreCase)))
                unique.Add(qualified);
        }
        return unique;
    }

    /// <summary>The message over SMTP. An exit code once the server has answered for good; null when it cannot take
    /// the message now (a 4xx, or the connection lost before its answer to the end of the data), and the maildrop
    /// takes it then.</summary>
    private int? Submit(LocalSmtpClient client, MaildropEnvelope envelope, MessageSpool spool, out string why)
    {
        why = "";
        try
        {
            SmtpReply reply = client.ReadReply();
            if (reply.Code != 220)
                return Later(reply, out why);
            reply = client.Command("EHLO localhost");
            if (!reply.Positive)
                return Later(reply, out why);
            bool utf8 = !Ascii.IsValid(envelope.Sender) || envelope.Recipients.Any(r => !Ascii.IsValid(r.Address));
            var mail = new StringBuilder($"MAIL FROM:<{envelope.Sender}>");
            if (envelope.EightBitMime)
                mail.Append(" BODY=8BITMIME");
            if (utf8)
                mail.Append(" SMTPUTF8");
            if (envelope.Return != DsnReturn.Unspecified)
                mail.Append(envelope.Return == DsnReturn.Full ? " RET=FULL" : " RET=HDRS");
            if (envelope.EnvelopeId.Length > 0)
                mail.Append(" ENVID=").Append(XtextEncode(envelope.EnvelopeId));
            reply = client.Command(mail.ToString());
            if (reply.Transient)
                return Later(reply, out why);
            if (!reply.Positive)
                return Fail(ExitCodeOf(reply), $"sender <{envelope.Sender}> refused: {reply}");
            int accepted = 0;
            int worst = ExitCode.Ok;
            foreach (MaildropRecipient recipient in envelope.Recipients)
            {
                string notify = recipient.Notify == DsnNotify.None ? "" : " NOTIFY=" + NotifyText(recipient.Notify);
                reply = client.Command($"RCPT TO:<{recipient.Address}>{notify}");
                if (reply.Transient)
                {
                    client.Command("RSET");
                    return Later(reply, out why);
                }
                if (reply.Positive)
                {
                    accepted++;
                    continue;
                }
                terminal.Error.WriteLine($"sendmail: <{recipient.Address}>: {reply}");
                worst = ExitCodeOf(reply);
            }
            if (accepted == 0)
                return worst;
            reply = client.Command("DATA");
            if (reply.Transient)
                return Later(reply, out why);
            if (reply.Code != 354)
                return Fail(ExitCodeOf(reply), "DATA refused: " + reply);
            spool.CopyTo(chunk => client.WriteData(chunk.Span));
            reply = client.EndData();
            if (reply.Transient)
                return Later(reply, out why);
            if (!reply.Positive)
                return Fail(ExitCodeOf(reply), $"the server did not accept the message: {reply}");
            Say("queued: " + reply.Text);
        }
        catch (IOException e)
        {
            // No answer to the end of the data: nothing is known to be kept, so the maildrop takes the message (if the
            // server committed it just before the connection broke, it arrives twice; it is never lost).
            why = $"the connection to the server was lost ({e.Message})";
            return null;
        }
        try
        {
            client.Command("QUIT");
        }
        catch (IOException)
        {
            // Queued already; the goodbye does not matter.
        }
        return ExitCode.Ok;
    }

    private static int? Later(SmtpReply reply, out string why)
    {
        why = "it answered " + reply;
        return null;
    }

    /// <summary>The maildrop, for when the server cannot take the message now.</summary>
    private int Drop(MaildropEnvelope envelope, MessageSpool spool, string why)
    {
        MaildropWriter writer;
        string directory = options.MaildropDirectory;
        try
        {
            try
            {
                writer = MaildropWriter.Create(directory, envelope);
            }
            catch (UnauthorizedAccessException) when (options.SharedMaildropDirectory is { } shared)
            {
                // Not root nor the server's user: the shared maildrop.
                directory = shared;
                writer = MaildropWriter.CreateShared(shared, options.DataDirectory, envelope);
            }
        }
        catch (UnauthorizedAccessException e)
        {
            return Fail(ExitCode.TempFail, options.SharedMaildropDirectory is null
                ? $"the server is not taking mail ({why}), and the maildrop is for root and the server's user only (Sendmail:SharedMaildrop is none); try again later"
                : $"the server is not taking mail ({why}), and {e.Message}; try again later");
        }
        catch (IOException e)
        {
            return Fail(ExitCode.TempFail, $"the server is not taking mail ({why}), and the maildrop cannot be written: {e.Message}; try again later");
        }
        using (writer)
        {
            spool.CopyTo(chunk => writer.Write(chunk.Span));
            string name = writer.Publish();
            Say($"dropped into {directory} as {name}; the server takes it in when it runs");
        }
        return ExitCode.Ok;
    }

    private delegate void LineSink(ReadOnlySpan<byte> line);

    /// <summary>The rest of standard input, line by line, into <paramref name="sink"/>, within Smtp:MaxMessageSize;
    /// null, or the exit code of the refusal (said on standard error).</summary>
    private int? CopyBody(MessageLines lines, long size, LineSink sink)
    {
        try
        {
            while (lines.TryRead(out ReadOnlyMemory<byte> line))
            {
                size += line.Length + 2;
                if (size > options.Smtp.MaxMessageSize)
                    return Fail(ExitCode.DataError, $"the message is larger than {options.Smtp.MaxMessageSize} octets (Smtp:MaxMessageSize); nothing was sent");
                sink(line.Span);
            }
            return null;
        }
        catch (InvalidDataException e)
        {
            return Fail(ExitCode.DataError, e.Message + "; nothing was sent");
        }
    }

    /// <summary>sysexits for a permanent refusal, as sendmail maps them.</summary>
    private static int ExitCodeOf(SmtpReply reply)
    {
        if (reply.Transient)
            return ExitCode.TempFail;
        string text = reply.Text;
        if (text.StartsWith("5.1.", StringComparison.Ordinal))
            return ExitCode.NoUser;
        if (text.StartsWith("5.7.", StringComparison.Ordinal))
            return ExitCode.NoPermission;
        return ExitCode.DataError;
    }

    private static string NotifyText(DsnNotify notify) => notify == DsnNotify.Never ? "NEVER"
        : string.Join(',', new[] { (DsnNotify.Success, "SUCCESS"), (DsnNotify.Failure, "FAILURE"), (DsnNotify.Delay, "DELAY") }
            .Where(n => (notify & n.Item1) != 0).Select(n => n.Item2));

    /// <summary>RFC 3461 §4 xtext: '+', '=' and octets outside 33-126 as +XX.</summary>
    private static string XtextEncode(string text)
    {
        var encoded = new StringBuilder();
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            if (b is < 33 or > 126 or (byte)'+' or (byte)'=')
                encoded.Append('+').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            else
                encoded.Append((char)b);
        }
        return encoded.ToString();
    }
}
