using System.Buffers.Binary;
using System.Text;

namespace FastSpool.Queue;

/// <summary>Reads the fixed-layout fields of version 1 records. Records are checksummed before they are read, so a short
/// record here is a bug or a foreign record: it throws <see cref="InvalidDataException"/>.</summary>
public ref struct FieldReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public FieldReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public byte ReadByte()
    {
        Ensure(1);
        return _buffer[_position++];
    }

    public uint ReadUInt32()
    {
        Ensure(4);
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(_buffer[_position..]);
        _position += 4;
        return value;
    }

    public long ReadInt64()
    {
        Ensure(8);
        long value = BinaryPrimitives.ReadInt64LittleEndian(_buffer[_position..]);
        _position += 8;
        return value;
    }

    public ulong ReadUInt64()
    {
        Ensure(8);
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(_buffer[_position..]);
        _position += 8;
        return value;
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        Ensure(2);
        int length = BinaryPrimitives.ReadUInt16LittleEndian(_buffer[_position..]);
        _position += 2;
        Ensure(length);
        ReadOnlySpan<byte> value = _buffer.Slice(_position, length);
        _position += length;
        return value;
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadBytes());

    /// <summary>A count of entries that follow, each at least <paramref name="entrySize"/> octets: a count the rest
    /// of the record cannot hold is damage (and must not become a huge allocation).</summary>
    public int ReadCount(int entrySize)
    {
        uint count = ReadUInt32();
        if (count > (uint)(Remaining / entrySize))
            throw new InvalidDataException("queue record counts more entries than it holds");
        return (int)count;
    }

    public readonly int Remaining => _buffer.Length - _position;

    private readonly void Ensure(int count)
    {
        if (_buffer.Length - _position < count)
            throw new InvalidDataException("queue record is shorter than its fields");
    }
}
