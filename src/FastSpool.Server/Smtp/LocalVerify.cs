using System.Text;
using FastSpool.Protocols.Smtp;
using FastSpool.Users;

namespace FastSpool.Server.Smtp;

/// <summary>VRFY on the sendmail socket, for <c>sendmail -bv</c>: what would become of an address, said in full to
/// a local user (as sendmail -bv and Postfix's verify do), where a TCP client only gets 252. Nothing is sent.
/// <c>250 2.1.5 &lt;a@b&gt;: local mailbox alice</c>, <c>... alias: mailboxes a, b; remote x@y</c>,
/// <c>... relayed to the smarthost</c>, or the RCPT refusal.</summary>
internal static class LocalVerify
{
    public static byte[] Answer(SmtpServerContext server, ReadOnlySpan<byte> argument)
    {
        ReadOnlySpan<byte> path = argument.Trim(" "u8);
        // Parsed as RCPT would be, so that -bv judges the address as a submission would.
        byte[] rcpt = new byte[path.Length + 5];
        "TO:<"u8.CopyTo(rcpt);
        path.TrimStart("<"u8).TrimEnd(">"u8).CopyTo(rcpt.AsSpan(4));
        int length = 4 + path.TrimStart("<"u8).TrimEnd(">"u8).Length;
        rcpt[length++] = (byte)'>';
        ReadOnlySpan<byte> line = rcpt.AsSpan(0, length);
        if (SmtpCommandParser.TryParseRcptTo(line, allowUtf8: true, out RcptToCommand command) != ArgumentError.None)
            return Encoding.UTF8.GetBytes($"501 5.1.3 <{Encoding.UTF8.GetString(path)}>: Bad recipient address syntax\r\n");
        string address = Encoding.UTF8.GetString(command.GetForwardPath(line));
        string localPart = Encoding.UTF8.GetString(command.GetLocalPart(line));
        RelayPolicy relay = server.Relay;
        RelayDecision decision = command.IsBarePostmaster ? RelayDecision.Local
            : relay.Decide(command.GetLocalPart(line), command.GetDomain(line), mayRelay: true);
        switch (decision)
        {
            case RelayDecision.Relay:
                return Encoding.UTF8.GetBytes($"250 2.1.5 <{address}>: remote, relayed to the smarthost\r\n");
            case RelayDecision.NotConfigured:
            case RelayDecision.Denied:
                return Encoding.UTF8.GetBytes($"550 5.7.1 <{address}>: remote, and relaying is not configured (no Relay:Smarthost)\r\n");
        }
        RecipientResolution resolution = server.Recipients.Resolve(localPart);
        if (resolution.IsEmpty)
            return Encoding.UTF8.GetBytes($"550 5.1.1 <{address}>: undeliverable: {resolution.Reason}\r\n");
        if (resolution.RemoteAddresses.Count == 0 && resolution.Mailboxes.Count == 1
            && resolution.Mailboxes[0].Equals(localPart, StringComparison.OrdinalIgnoreCase))
        {
            return Encoding.UTF8.GetBytes($"250 2.1.5 <{address}>: local mailbox {resolution.Mailboxes[0]}\r\n");
        }
        var what = new StringBuilder($"250 2.1.5 <{address}>: alias");
        if (resolution.Mailboxes.Count > 0)
            what.Append(": mailboxes ").Append(string.Join(", ", resolution.Mailboxes));
        if (resolution.RemoteAddresses.Count > 0)
            what.Append(resolution.Mailboxes.Count > 0 ? "; " : ": ").Append("remote ").Append(string.Join(", ", resolution.RemoteAddresses));
        return Encoding.UTF8.GetBytes(what.Append("\r\n").ToString());
    }
}
