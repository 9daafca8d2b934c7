using System.Buffers;

namespace FastSpool.Delivery.Tests.Support;

/// <summary>Memory whose contents cannot be read: a content source that fails part way through an append.</summary>
public sealed class ThrowingMemory : MemoryManager<byte>
{
    private readonly int _length;

    public ThrowingMemory(int length) => _length = length;

    public override Span<byte> GetSpan() => throw new InvalidOperationException("the content source failed");

    public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException();

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }

    public override Memory<byte> Memory => CreateMemory(_length);
}
