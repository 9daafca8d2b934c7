namespace FastSpool.Queue;

/// <summary>Recipient addresses packed into one reusable byte buffer (no string per recipient while a session
/// collects them). Owned by one session and reset for each transaction.</summary>
public sealed class RecipientList
{
    private byte[] _bytes = new byte[1024];
    private int[] _ends = new int[16];
    private int _length;

    public int Count { get; private set; }

    /// <summary>Bytes the recipients take when written as record fields.</summary>
    public int EncodedSize => _length + (2 * Count);

    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count);
            int start = index == 0 ? 0 : _ends[index - 1];
            return _bytes.AsSpan(start, _ends[index] - start);
        }
    }

    public void Add(ReadOnlySpan<byte> address)
    {
        if (_length + address.Length > _bytes.Length)
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + address.Length));
        if (Count == _ends.Length)
            Array.Resize(ref _ends, _ends.Length * 2);
        address.CopyTo(_bytes.AsSpan(_length));
        _length += address.Length;
        _ends[Count++] = _length;
    }

    /// <summary>True when the list already holds the address (ASCII case-insensitive, as duplicates are judged).</summary>
    public bool Contains(ReadOnlySpan<byte> address)
    {
        for (int i = 0; i < Count; i++)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(this[i], address))
                return true;
        }
        return false;
    }

    public void Clear()
    {
        Count = 0;
        _length = 0;
    }
}
