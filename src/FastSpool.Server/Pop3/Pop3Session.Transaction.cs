// RFC 1939 §5 (STAT, LIST, RETR, DELE, NOOP, RSET), §6 (QUIT and UPDATE), §7 (TOP, UIDL).
using System.Buffers;
using FastSpool.Delivery.Maildrop;
using FastSpool.Logging;
using FastSpool.Protocols.Pop3;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server.Pop3;

internal sealed partial class Pop3Session
{
    private const int TextBlock = 64 * 1024;

    private bool Stat(ReadOnlySpan<byte> argument)
    {
        if (!argument.IsEmpty)
            return Error(Pop3Replies.UnexpectedArgument);
        (int count, long octets) = Remaining();
        WriteNumberLine(Pop3Replies.OkPrefix, count, " "u8, octets, Pop3Replies.Crlf);
        return false;
    }

    private (int Count, long Octets) Remaining()
    {
        int count = 0;
        long octets = 0;
        for (int i = 0; i < _deleted.Length; i++)
        {
            if (!_deleted[i])
            {
                count++;
                octets += _maildrop![i].Size;
            }
        }
        return (count, octets);
    }

    /// <summary>Parses a message number argument and checks it against the maildrop; false after writing the error.</summary>
    private bool TryMessage(ReadOnlySpan<byte> argument, out int index, out bool close)
    {
        index = -1;
        close = false;
        if (argument.IsEmpty)
            close = Error(Pop3Replies.NeedMessageNumber);
        else if (!Pop3CommandParser.TryParseNumber(argument, out int number))
            close = Error(Pop3Replies.BadMessageNumber);
        else if (number < 1 || number > _deleted.Length)
            close = Error(Pop3Replies.NoSuchMessage);
        else if (_deleted[number - 1])
            close = Error(Pop3Replies.MessageDeleted);
        else
        {
            index = number - 1;
            return true;
        }
        return false;
    }

    private bool List(ReadOnlySpan<byte> argument)
    {
        if (!argument.IsEmpty)
        {
            if (!TryMessage(argument, out int index, out bool close))
                return close;
            WriteNumberLine(Pop3Replies.OkPrefix, index + 1, " "u8, _maildrop![index].Size, Pop3Replies.Crlf);
            return false;
        }
        (int count, long octets) = Remaining();
        WriteNumberLine(Pop3Replies.OkPrefix, count, Pop3Replies.MessagesSuffix, octets, Pop3Replies.OctetsSuffix);
        for (int i = 0; i < _deleted.Length; i++)
        {
            if (!_deleted[i])
                WriteNumberLine(default, i + 1, " "u8, _maildrop![i].Size, Pop3Replies.Crlf);
        }
        _output.Write(Pop3Replies.End);
        return false;
    }

    private bool Uidl(ReadOnlySpan<byte> argument)
    {
        if (!argument.IsEmpty)
        {
            if (!TryMessage(argument, out int index, out bool close))
                return close;
            WriteUidLine(Pop3Replies.OkPrefix, index);
            return false;
        }
        _output.Write(Pop3Replies.MultilineFollows);
        for (int i = 0; i < _deleted.Length; i++)
        {
            if (!_deleted[i])
                WriteUidLine(default, i);
        }
        _output.Write(Pop3Replies.End);
        return false;
    }

    private void WriteUidLine(ReadOnlySpan<byte> prefix, int index)
    {
        Span<byte> reply = stackalloc byte[128];
        prefix.CopyTo(reply);
        int n = prefix.Length;
        (index + 1).TryFormat(reply[n..], out int w, default, System.Globalization.CultureInfo.InvariantCulture);
        n += w;
        reply[n++] = (byte)' ';
        n += _maildrop!.FormatUid(index, reply[n..]);
        reply[n++] = (byte)'\r';
        reply[n++] = (byte)'\n';
        _output.Write(reply[..n]);
    }

    private bool Dele(ReadOnlySpan<byte> argument)
    {
        if (!TryMessage(argument, out int index, out bool close))
            return close;
        _deleted[index] = true;
        _output.Write(Pop3Replies.Deleted);
        return false;
    }

    private bool Rset(ReadOnlySpan<byte> argument)
    {
        if (!argument.IsEmpty)
            return Error(Pop3Replies.UnexpectedArgument);
        Array.Clear(_deleted);
        (int count, long octets) = Remaining();
        WriteNumberLine("+OK maildrop has "u8, count, Pop3Replies.MessagesSuffix, octets, Pop3Replies.OctetsSuffix);
        return false;
    }

    private ValueTask<bool> RetrAsync(ReadOnlySpan<byte> argument)
    {
        if (!TryMessage(argument, out int index, out bool close))
            return Result(close);
        MboxMessage message = _maildrop![index];
        WriteNumberLine(Pop3Replies.OkPrefix, message.Size, Pop3Replies.RetrSuffix, -1, default);
        _retrieved++;
        _retrievedOctets += message.Size;
        _server.Metrics.Retrieved(message.Size);
        return SendTextAsync(index, (int)message.ContentLength);
    }

    private ValueTask<bool> TopAsync(ReadOnlySpan<byte> argument)
    {
        int space = argument.IndexOf((byte)' ');
        if (!Pop3CommandParser.TryParseTop(argument, out _, out int lines))
            return Result(Error(Pop3Replies.TopSyntax));
        if (!TryMessage(argument[..space], out int index, out bool close))
            return Result(close);
        int length = MboxScanner.TopLength(_maildrop!.Content(index), lines);
        _output.Write(Pop3Replies.MultilineFollows);
        _topped++;
        return SendTextAsync(index, length);
    }

    /// <summary>Streams the first <paramref name="length"/> octets of a message's text from the mapping, encoded,
    /// flushing every block so that a large message never sits in the output whole.</summary>
    private async ValueTask<bool> SendTextAsync(int index, int length)
    {
        int at = 0;
        _encoder = default;
        while (at < length)
        {
            at += EncodeBlock(index, at, length);
            if (_output.UnflushedBytes >= TextBlock)
                await FlushAsync().ConfigureAwait(false);
        }
        _maildrop!.Release(index, length);
        Span<byte> end = _output.GetSpan(8);
        int n = _encoder.Finish(end);
        Pop3Replies.End.CopyTo(end[n..]);
        _output.Advance(n + Pop3Replies.End.Length);
        return false;
    }

    private int EncodeBlock(int index, int at, int length)
    {
        ReadOnlySpan<byte> text = _maildrop!.Content(index).Slice(at, Math.Min(TextBlock, length - at));
        Span<byte> output = _output.GetSpan(TextBlock);
        _encoder.Encode(text, output, out int consumed, out int written);
        _output.Advance(written);
        return consumed;
    }

    private async ValueTask<bool> QuitAsync()
    {
        if (_state != Pop3State.Transaction)
        {
            _output.Write(Pop3Replies.Bye);
            return true;
        }
        _state = Pop3State.Update;
        int deleted = 0;
        foreach (bool d in _deleted)
            deleted += d ? 1 : 0;
        (int left, _) = Remaining();
        string? failure = await _maildrop!.UpdateAsync(_deleted, _server.Local is { } local ? local.HasUnchecked : null, Token).ConfigureAwait(false);
        if (failure is null)
        {
            _server.Metrics.Deleted(deleted);
            _server.Logger.Line(LogLevel.Information,
                $"logout: user=<{_user}>, [{_client}], retr={_retrieved}/{_retrievedOctets}, top={_topped}, deleted={deleted}, left={left}");
            _output.Write(Pop3Replies.Bye);
        }
        else
        {
            _server.Logger.Line(LogLevel.Error, $"update failed: user=<{_user}>, [{_client}]: {failure}");
            _output.Write(Pop3Replies.UpdateFailed);
        }
        _maildrop.Dispose();
        _maildrop = null;
        return true;
    }
}
