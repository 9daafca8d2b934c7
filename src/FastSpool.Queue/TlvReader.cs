using System.Buffers.Binary;
using System.Text;

namespace FastSpool.Queue;

/// <summary>Reads what <see cref="TlvWriter"/> wrote, one field at a time. Records are checksummed before they are
/// read, so a field that runs past the end is a bug or a foreign record: <see cref="InvalidDataException"/>.</summary>
public ref struct TlvReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public TlvReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public bool Next(out byte tag, out ReadOnlySpan<byte> value)
    {
        if (_position >= _buffer.Length)
        {
            tag = 0;
            value = default;
            return false;
        }
        tag = _buffer[_position++];
        uint length = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (_position >= _buffer.Length || shift > 28)
                throw new InvalidDataException("queue record field has a damaged length");
            byte b = _buffer[_position++];
            length |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                break;
        }
        if (length > (uint)(_buffer.Length - _position))
            throw new InvalidDataException("queue record field runs past the end of the record");
        value = _buffer.Slice(_position, (int)length);
        _position += (int)length;
        return true;
    }

    public static long Number(ReadOnlySpan<byte> value) =>
        value.Length == 8 ? BinaryPrimitives.ReadInt64LittleEndian(value) : throw new InvalidDataException("queue record field is not a 64-bit number");

    public static byte Octet(ReadOnlySpan<byte> value) =>
        value.Length == 1 ? value[0] : throw new InvalidDataException("queue record field is not one octet");

    public static string Text(ReadOnlySpan<byte> value) => Encoding.UTF8.GetString(value);

    /// <summary>A time stored as Unix milliseconds; one outside what <see cref="DateTimeOffset"/> holds is damage.</summary>
    public static DateTimeOffset Time(long unixMilliseconds) =>
        unixMilliseconds is >= MinUnixMilliseconds and <= MaxUnixMilliseconds
            ? DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds)
            : throw new InvalidDataException("queue record field is not a time");

    private const long MinUnixMilliseconds = -62_135_596_800_000; // 0001-01-01
    private const long MaxUnixMilliseconds = 253_402_300_799_999; // 9999-12-31
}
