using System.Buffers.Binary;
using System.Text;

namespace FastSpool.Queue;

/// <summary>Writes the fields of a version 2 record: each one a tag octet, its value's length as a LEB128 number,
/// then the value. A reader skips tags it does not know, so a newer FastSpool can add fields that an older one
/// still reads past (record format v2).</summary>
public ref struct TlvWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public TlvWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public void WriteNumber(byte tag, long value)
    {
        Header(tag, 8);
        BinaryPrimitives.WriteInt64LittleEndian(_buffer[_position..], value);
        _position += 8;
    }

    public void WriteOctet(byte tag, byte value)
    {
        Header(tag, 1);
        _buffer[_position++] = value;
    }

    public void WriteBytes(byte tag, ReadOnlySpan<byte> value)
    {
        Header(tag, value.Length);
        value.CopyTo(_buffer[_position..]);
        _position += value.Length;
    }

    public void WriteText(byte tag, string? value)
    {
        if (value is null)
            return;
        int length = Encoding.UTF8.GetByteCount(value);
        Header(tag, length);
        Encoding.UTF8.GetBytes(value, _buffer[_position..]);
        _position += length;
    }

    /// <summary>Starts a nested group (for example one recipient); <see cref="EndGroup"/> fills in its length. The
    /// length is kept in a fixed 4-octet LEB128 form so that it can be written after the group.</summary>
    public int BeginGroup(byte tag)
    {
        _buffer[_position++] = tag;
        int at = _position;
        _position += 4;
        return at;
    }

    public void EndGroup(int at)
    {
        int length = _position - at - 4;
        for (int i = 0; i < 4; i++)
        {
            _buffer[at + i] = (byte)((length & 0x7F) | (i < 3 ? 0x80 : 0));
            length >>= 7;
        }
    }

    private void Header(byte tag, int length)
    {
        _buffer[_position++] = tag;
        uint value = (uint)length;
        while (value >= 0x80)
        {
            _buffer[_position++] = (byte)(value | 0x80);
            value >>= 7;
        }
        _buffer[_position++] = (byte)value;
    }

    public static int SizeOf(int valueLength) => 1 + LengthSize(valueLength) + valueLength;

    public static int SizeOf(string? value) => value is null ? 0 : SizeOf(Encoding.UTF8.GetByteCount(value));

    public const int GroupOverhead = 5;

    private static int LengthSize(int length) => length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x200000 ? 3 : 4;
}
