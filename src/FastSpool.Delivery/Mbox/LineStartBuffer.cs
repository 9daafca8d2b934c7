using System.Runtime.CompilerServices;

namespace FastSpool.Delivery.Mbox;

/// <summary>The first bytes of a line, held until the encoder knows whether the line is quoted, stripped or
/// copied; a line start can be split across input chunks.</summary>
[InlineArray(Capacity)]
internal struct LineStartBuffer
{
    public const int Capacity = 32;

    private byte _element;
}
