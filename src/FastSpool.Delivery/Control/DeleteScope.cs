namespace FastSpool.Delivery.Control;

public enum DeleteScope
{
    All,

    /// <summary>Messages with at least one deferred recipient.</summary>
    Deferred,
}
