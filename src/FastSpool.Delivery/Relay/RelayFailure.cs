using FastSpool.Delivery.Transport;

namespace FastSpool.Delivery.Relay;

/// <summary>The session with the smarthost cannot go on (no connection, a refusal at greeting or EHLO, no TLS, a failed
/// AUTH, a timeout, a lost connection): every recipient not answered yet gets <see cref="Result"/>. Thrown only out of
/// the connection's own steps; what a transaction's replies say are results, not exceptions.</summary>
internal sealed class RelayFailure(DeliveryResult result) : Exception(result.Reply.Text)
{
    public DeliveryResult Result { get; } = result;
}
