using System.Buffers;
using FastSpool.Queue;

namespace FastSpool.Server.Smtp;

/// <summary>Replies with a variable part, written straight into the output without a string.</summary>
internal static class SmtpReplyWriter
{
    /// <summary><c>250 2.0.0 Ok: queued as ID</c>, the reply to the end of a message (RFC 5321 §4.1.1.4).</summary>
    public static void WriteQueuedAs(IBufferWriter<byte> output, QueueId id)
    {
        Span<byte> reply = stackalloc byte[64];
        SmtpReplies.QueuedAsPrefix.CopyTo(reply);
        int n = SmtpReplies.QueuedAsPrefix.Length;
        id.TryFormat(reply[n..], out int written);
        n += written;
        SmtpReplies.Crlf.CopyTo(reply[n..]);
        output.Write(reply[..(n + 2)]);
    }

    /// <summary><c>250 2.0.0 Ok: N octets received</c>, the reply to a BDAT chunk that is not the last (RFC 3030 §2).</summary>
    public static void WriteChunkAccepted(IBufferWriter<byte> output, long octets)
    {
        Span<byte> reply = stackalloc byte[64];
        SmtpReplies.ChunkOkPrefix.CopyTo(reply);
        int n = SmtpReplies.ChunkOkPrefix.Length;
        octets.TryFormat(reply[n..], out int written);
        n += written;
        SmtpReplies.ChunkOkSuffix.CopyTo(reply[n..]);
        output.Write(reply[..(n + SmtpReplies.ChunkOkSuffix.Length)]);
    }
}
