using FastSpool.Protocols.Smtp;
namespace FastSpool.Queue;

/// <summary>Recipient addresses, with their RFC 3461 ORCPT and NOTIFY, packed into one reusable byte buffer (no
/// string per recipient while a session collects them). Owned by one door and reset for each transaction.</summary>
public sealed class RecipientList
{
    private byte[] _bytes = new byte[1024];
    private Entry[] _entries = new Entry[16];
    private int _length;

    public int Count { get; private set; }

    public ReadOnlySpan<byte> this[int index] => Address(index);

    public ReadOnlySpan<byte> Address(int index)
    {
        ref readonly Entry e = ref Get(index);
        return _bytes.AsSpan(e.Start, e.AddressLength);
    }

    /// <summary>ORCPT as given (<c>rfc822;user@example.org</c>, xtext decoded); empty when none was given.</summary>
    public ReadOnlySpan<byte> OriginalRecipient(int index)
    {
        ref readonly Entry e = ref Get(index);
        return _bytes.AsSpan(e.Start + e.AddressLength, e.OrcptLength);
    }

    public DsnNotify Notify(int index) => Get(index).Notify;

    public void Add(ReadOnlySpan<byte> address, ReadOnlySpan<byte> originalRecipient = default, DsnNotify notify = DsnNotify.None)
    {
        int needed = address.Length + originalRecipient.Length;
        if (_length + needed > _bytes.Length)
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + needed));
        if (Count == _entries.Length)
            Array.Resize(ref _entries, _entries.Length * 2);
        address.CopyTo(_bytes.AsSpan(_length));
        originalRecipient.CopyTo(_bytes.AsSpan(_length + address.Length));
        _entries[Count++] = new Entry(_length, address.Length, originalRecipient.Length, notify);
        _length += needed;
    }

    /// <summary>True when the list already holds the address (ASCII case-insensitive, as duplicates are judged).</summary>
    public bool Contains(ReadOnlySpan<byte> address)
    {
        for (int i = 0; i < Count; i++)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(Address(i), address))
                return true;
        }
        return false;
    }

    public void Clear()
    {
        Count = 0;
        _length = 0;
    }

    private ref readonly Entry Get(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count);
        return ref _entries[index];
    }

    private readonly record struct Entry(int Start, int AddressLength, int OrcptLength, DsnNotify Notify);
}
