using System.Text;

namespace FastSpool.Queue;

/// <summary>The envelope's text fields as they were in the last message a writer sealed. A connection sends many
/// messages with the same client address, HELO name, sender and often the same recipient; a field whose bytes did
/// not change gets the same string again instead of a new one per message.</summary>
internal sealed class EnvelopeTextCache
{
    // Longer fields are decoded every time rather than kept.
    private const int MaxCached = 256;

    private readonly Slot _clientAddress = new(), _clientHelo = new(), _sender = new(), _authenticatedName = new(), _recipient = new();

    public string ClientAddress(ReadOnlySpan<byte> utf8) => _clientAddress.Text(utf8);

    public string ClientHelo(ReadOnlySpan<byte> utf8) => _clientHelo.Text(utf8);

    public string Sender(ReadOnlySpan<byte> utf8) => _sender.Text(utf8);

    public string AuthenticatedName(ReadOnlySpan<byte> utf8) => _authenticatedName.Text(utf8);

    public string Recipient(ReadOnlySpan<byte> utf8) => _recipient.Text(utf8);

    private sealed class Slot
    {
        private byte[]? _bytes;
        private int _length;
        private string? _text;

        public string Text(ReadOnlySpan<byte> utf8)
        {
            if (utf8.IsEmpty)
                return "";
            if (_text is not null && utf8.SequenceEqual(_bytes.AsSpan(0, _length)))
                return _text;
            string text = Encoding.UTF8.GetString(utf8);
            if (utf8.Length > MaxCached)
                return text;
            if (_bytes is null || _bytes.Length < utf8.Length)
                _bytes = new byte[Math.Max(utf8.Length, 64)];
            utf8.CopyTo(_bytes);
            _length = utf8.Length;
            _text = text;
            return text;
        }
    }
}
