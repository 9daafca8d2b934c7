// RFC 5321 §3.3 (MAIL, RCPT, DATA), §4.5.2 (dot-stuffing); RFC 2920 (PIPELINING: MAIL, RCPT and DATA in one group);
// RFC 1870 (SIZE), RFC 6152 (8BITMIME), RFC 6531 (SMTPUTF8), RFC 3030 (BDAT), RFC 3461 (DSN parameters).
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using FastSpool.Delivery.Transport;
using FastSpool.Protocols.Smtp;
using FastSpool.Queue;

namespace FastSpool.Delivery.Relay;

/// <summary>One message over the connection: per recipient a result from the smarthost's own replies.</summary>
internal sealed partial class SmarthostConnection
{
    // Message text is flushed in blocks of this size, each timed on its own (RFC 5321 §4.5.3.2.5).
    private const int BlockSize = 64 * 1024;

    /// <summary>Sends <paramref name="job"/>'s message to the recipients of its items and writes their results. Refusals
    /// of the message (size, 8BITMIME, SMTPUTF8) are decided before anything is sent.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(RelayJob job, IReadOnlyList<DeliveryItem> items, DeliveryResult[] results, MessageBody body)
    {
        QueuedMessage message = job.Message;
        if (Refusal(message) is { } refused)
        {
            job.FailRemaining(refused, results);
            return;
        }
        bool pipelining = Ehlo.Has(SmtpExtensions.Pipelining);
        bool chunking = Ehlo.Has(SmtpExtensions.Chunking);
        bool dsn = Ehlo.Has(SmtpExtensions.Dsn);

        _step = "MAIL FROM";
        WriteMail(message, dsn);
        RemoteReply mail = default;
        if (!pipelining)
        {
            await FlushAsync(_settings.Timeouts.Command).ConfigureAwait(false);
            mail = await ReadReplyAsync(_settings.Timeouts.MailRcpt, keepText: false).ConfigureAwait(false);
            if (!mail.IsPositive)
            {
                job.FailRemaining(mail.ToResult(Peer), results);
                return;
            }
        }
        var accepted = new List<int>(job.Items.Count);
        if (pipelining)
        {
            foreach (int i in job.Items)
                WriteRcpt(items[i], dsn);
            if (!chunking)
                Write("DATA\r\n");
            await FlushAsync(_settings.Timeouts.Command).ConfigureAwait(false);
            mail = await ReadReplyAsync(_settings.Timeouts.MailRcpt, keepText: false).ConfigureAwait(false);
        }
        _step = "RCPT TO";
        foreach (int i in job.Items)
        {
            if (!pipelining)
            {
                WriteRcpt(items[i], dsn);
                await FlushAsync(_settings.Timeouts.Command).ConfigureAwait(false);
            }
            RemoteReply rcpt = await ReadReplyAsync(_settings.Timeouts.MailRcpt, keepText: false).ConfigureAwait(false);
            if (!mail.IsPositive)
                results[i] = mail.ToResult(Peer);
            else if (rcpt.IsPositive)
                accepted.Add(i);
            else
                results[i] = rcpt.ToResult(Peer);
        }
        RemoteReply final;
        if (chunking)
        {
            if (accepted.Count == 0)
                return;
            _step = "BDAT";
            Write($"BDAT {body.Content.Length} LAST\r\n");
            await WriteTextAsync(body.Content, stuff: false).ConfigureAwait(false);
        }
        else
        {
            _step = "DATA";
            if (!pipelining)
            {
                if (accepted.Count == 0)
                    return;
                Write("DATA\r\n");
                await FlushAsync(_settings.Timeouts.Command).ConfigureAwait(false);
            }
            RemoteReply data = await ReadReplyAsync(_settings.Timeouts.DataInitiation, keepText: false).ConfigureAwait(false);
            if (data.Code != 354)
            {
                foreach (int i in accepted)
                    results[i] = data.ToResult(Peer);
                return;
            }
            if (accepted.Count == 0)
            {
                // A server that says 354 with no recipient (RFC 2920 §3.1 allows it): an empty message ends the transaction.
                Write(".\r\n");
                await FlushAsync(_settings.Timeouts.DataBlock).ConfigureAwait(false);
                await ReadReplyAsync(_settings.Timeouts.DataTermination).ConfigureAwait(false);
                return;
            }
            _step = "the message text";
            await WriteTextAsync(body.Content, stuff: true).ConfigureAwait(false);
        }
        _step = "the end of the message";
        final = await ReadReplyAsync(_settings.Timeouts.DataTermination).ConfigureAwait(false);
        foreach (int i in accepted)
            results[i] = final.ToResult(Peer) with { NotificationsPassedOn = dsn };
    }

    /// <summary>Why the smarthost cannot take the message at all, as it said in EHLO; null when it can.</summary>
    private DeliveryResult? Refusal(QueuedMessage message)
    {
        if (message.SmtpUtf8 && !Ehlo.Has(SmtpExtensions.SmtpUtf8))
            return DeliveryResult.Permanent("5.6.7", $"SMTPUTF8 is required, but was not offered by host {Peer}", 553);
        if (message.EightBitMime && !Ehlo.Has(SmtpExtensions.EightBitMime))
            return DeliveryResult.Permanent("5.6.3", $"the message is 8-bit (BODY=8BITMIME), but host {Peer} does not offer 8BITMIME", 554);
        if (Ehlo.MaxSize > 0 && message.Size > Ehlo.MaxSize)
            return DeliveryResult.Permanent("5.3.4", $"message size {message.Size} exceeds size limit {Ehlo.MaxSize} of server {Peer}", 552);
        return null;
    }

    private void WriteMail(QueuedMessage message, bool dsn)
    {
        Write($"MAIL FROM:<{message.Sender}>");
        if (Ehlo.Has(SmtpExtensions.Size))
            Write($" SIZE={message.Size}");
        if (message.EightBitMime)
            Write(" BODY=8BITMIME");
        if (message.SmtpUtf8)
            Write(" SMTPUTF8");
        if (dsn)
        {
            if (message.Return != DsnReturn.Unspecified)
                Write(message.Return == DsnReturn.Full ? " RET=FULL" : " RET=HDRS");
            if (!string.IsNullOrEmpty(message.EnvelopeId))
                Write(" ENVID=" + XtextOf(message.EnvelopeId));
        }
        Write("\r\n");
    }

    private void WriteRcpt(DeliveryItem item, bool dsn)
    {
        Write($"RCPT TO:<{item.Part}>");
        QueuedRecipient target = item.Target;
        if (dsn)
        {
            if (target.Notify != DsnNotify.None)
                Write(" NOTIFY=" + Notify(target.Notify));
            // ORCPT names the address the sender gave: for an alias's target, that is the alias.
            string? original = target.OriginalRecipient;
            if (original is null && !item.Part.Equals(target.Address, StringComparison.OrdinalIgnoreCase))
                original = "rfc822;" + target.Address;
            // A utf-8 one (kept decoded) goes out in RFC 6533's 7-bit form, which is xtext too.
            if (original is not null && original.IndexOf(';') is > 0 and int semicolon)
            {
                string address = original[(semicolon + 1)..];
                Write($" ORCPT={original[..semicolon]};{(Utf8AddrXtext.IsUtf8Type(original) ? Utf8AddrXtext.Encode(address) : XtextOf(address))}");
            }
        }
        Write("\r\n");
    }

    private static string Notify(DsnNotify notify)
    {
        if ((notify & DsnNotify.Never) != 0)
            return "NEVER";
        var text = new StringBuilder();
        if ((notify & DsnNotify.Success) != 0)
            text.Append("SUCCESS,");
        if ((notify & DsnNotify.Failure) != 0)
            text.Append("FAILURE,");
        if ((notify & DsnNotify.Delay) != 0)
            text.Append("DELAY,");
        return text.ToString(0, text.Length - 1);
    }

    private static string XtextOf(string value)
    {
        byte[] raw = Encoding.UTF8.GetBytes(value);
        byte[] encoded = new byte[Xtext.GetEncodedLength(raw)];
        Xtext.Encode(raw, encoded);
        return Encoding.ASCII.GetString(encoded);
    }

    /// <summary>The stored text (CRLF line ends) in blocks: dot-stuffed and ended with <c>.CRLF</c> for DATA, as it is
    /// for BDAT.</summary>
    private async Task WriteTextAsync(ReadOnlySequence<byte> text, bool stuff)
    {
        var stuffer = new DotStuffer();
        long pending = 0;
        foreach (ReadOnlyMemory<byte> segment in text)
        {
            for (int offset = 0; offset < segment.Length; offset += BlockSize)
            {
                ReadOnlyMemory<byte> block = segment.Slice(offset, Math.Min(BlockSize, segment.Length - offset));
                if (stuff)
                    stuffer.Write(block.Span, _output);
                else
                    _output.Write(block.Span);
                pending += block.Length;
                if (pending >= BlockSize)
                {
                    await FlushAsync(_settings.Timeouts.DataBlock).ConfigureAwait(false);
                    pending = 0;
                }
            }
        }
        if (stuff)
            stuffer.Finish(_output);
        await FlushAsync(_settings.Timeouts.DataBlock).ConfigureAwait(false);
    }
}
