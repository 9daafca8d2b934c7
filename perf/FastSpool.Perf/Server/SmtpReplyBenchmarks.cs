using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using BenchmarkDotNet.Attributes;
using FastSpool.Queue;
using FastSpool.Server.Smtp;

namespace FastSpool.Perf.Server;

/// <summary>Reply writing: the fixed replies of one transaction (MAIL, two RCPT, DATA, end of data, QUIT), the
/// <c>250 2.0.0 Ok: queued as ID</c> reply assembled as <see cref="SmtpSession"/> does it, and the Received
/// header field, into reused buffers; and the same replies through a <see cref="Pipe"/> with a flush and a read,
/// as they leave a connection.</summary>
[MemoryDiagnoser]
public class SmtpReplyBenchmarks
{
    private static readonly QueueId Id = new(0x6B05C71800000);
    private static readonly DateTimeOffset Arrival = new(2026, 11, 24, 17, 19, 20, TimeSpan.Zero);

    private readonly ArrayBufferWriter<byte> _writer = new(4096);
    private readonly byte[] _headerBuffer = new byte[ReceivedHeader.MaxLength];
    private readonly Pipe _pipe = new(new PipeOptions(useSynchronizationContext: false));
    private readonly byte[] _helo = Encoding.ASCII.GetBytes("client.example.org");
    private readonly byte[] _client = Encoding.ASCII.GetBytes("192.0.2.10");
    private readonly byte[] _hostname = Encoding.ASCII.GetBytes("mail.example.org");
    private readonly byte[] _recipient = Encoding.ASCII.GetBytes("alice@example.org");
    private readonly byte[] _tls = Encoding.ASCII.GetBytes("TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)");
    private readonly byte[] _user = Encoding.ASCII.GetBytes("alice");

    [Benchmark]
    public int TransactionReplies()
    {
        _writer.ResetWrittenCount();
        WriteTransaction(_writer);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public int QueuedAsReply()
    {
        _writer.ResetWrittenCount();
        WriteQueuedAs(_writer);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public int ReceivedHeaderField() => WriteReceived("ESMTP"u8, default, default);

    /// <summary>The same for mail that came over TLS with AUTH: the cipher comment (made once per connection) and the
    /// authenticated sender copied in.</summary>
    [Benchmark]
    public int ReceivedHeaderFieldOverTls() => WriteReceived("ESMTPSA"u8, _tls, _user);

    private int WriteReceived(ReadOnlySpan<byte> protocol, ReadOnlySpan<byte> tls, ReadOnlySpan<byte> user) =>
        ReceivedHeader.Write(_headerBuffer, new ReceivedHeader.Fields
        {
            Helo = _helo,
            ClientAddress = _client,
            Hostname = _hostname,
            Protocol = protocol,
            Id = Id,
            Recipient = _recipient,
            Time = Arrival,
            Tls = tls,
            AuthenticatedSender = user,
        });

    /// <summary>The transaction's replies written to a pipe, flushed, and read off the other end.</summary>
    [Benchmark]
    public long TransactionRepliesThroughPipe()
    {
        PipeWriter output = _pipe.Writer;
        WriteTransaction(output);
        ValueTask<FlushResult> flush = output.FlushAsync();
        if (!flush.IsCompletedSuccessfully)
            flush.AsTask().GetAwaiter().GetResult();
        if (!_pipe.Reader.TryRead(out ReadResult read))
            throw new InvalidOperationException("the flushed replies could not be read");
        long length = read.Buffer.Length;
        _pipe.Reader.AdvanceTo(read.Buffer.End);
        return length;
    }

    private static void WriteTransaction(IBufferWriter<byte> output)
    {
        output.Write(SmtpReplies.MailOk);
        output.Write(SmtpReplies.RcptOk);
        output.Write(SmtpReplies.RcptOk);
        output.Write(SmtpReplies.StartMailInput);
        WriteQueuedAs(output);
        output.Write(SmtpReplies.Closing);
    }

    private static void WriteQueuedAs(IBufferWriter<byte> output) => SmtpReplyWriter.WriteQueuedAs(output, Id);
}
