namespace FastSpool.Bench.Messages;

/// <summary>One body size's bytes, built once per run and shared by every session.</summary>
internal sealed class MessageBody
{
    public required int Size { get; init; }

    /// <summary>The body as the server must store it (what a BDAT chunk carries after the header).</summary>
    public required ReadOnlyMemory<byte> Text { get; init; }

    /// <summary>The body as DATA sends it: dot-stuffed, with the ".CRLF" terminator.</summary>
    public required ReadOnlyMemory<byte> DataText { get; init; }

    /// <summary><c>BDAT n LAST</c> for the whole message (header and body) in one chunk.</summary>
    public required byte[] BdatCommand { get; init; }

    /// <summary>Header plus body: the payload counted in MB/s.</summary>
    public required int MessageLength { get; init; }
}
