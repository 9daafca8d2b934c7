using System.Buffers.Binary;
using System.Text;

namespace FastSpool.Queue;

/// <summary>Writes the type-specific fields of a record into a span. Strings are u16 length + UTF-8.</summary>
public ref struct FieldWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public FieldWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public void WriteByte(byte value) => _buffer[_position++] = value;

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer[_position..], value);
        _position += 4;
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_buffer[_position..], value);
        _position += 8;
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer[_position..], value);
        _position += 8;
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        if (value.Length > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(value), "field longer than 65535 bytes");
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[_position..], (ushort)value.Length);
        value.CopyTo(_buffer[(_position + 2)..]);
        _position += 2 + value.Length;
    }

    public void WriteString(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        if (length > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(value), "field longer than 65535 bytes");
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[_position..], (ushort)length);
        Encoding.UTF8.GetBytes(value, _buffer[(_position + 2)..]);
        _position += 2 + length;
    }

    public static int SizeOf(string value) => 2 + Encoding.UTF8.GetByteCount(value);
}
