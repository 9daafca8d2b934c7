namespace FastSpool.Delivery.Tests.Support;

/// <summary>A stream that cannot seek and hands out at most a few bytes a read, like a pipe.</summary>
public sealed class ForwardOnlyStream : Stream
{
    private readonly MemoryStream _inner;
    private readonly int _mostPerRead;

    public ForwardOnlyStream(byte[] bytes, int mostPerRead)
    {
        _inner = new MemoryStream(bytes, writable: false);
        _mostPerRead = mostPerRead;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        _inner.Read(buffer, offset, Math.Min(count, _mostPerRead));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
