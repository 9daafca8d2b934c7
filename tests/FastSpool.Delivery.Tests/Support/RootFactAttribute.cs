using FastSpool.Posix;

namespace FastSpool.Delivery.Tests.Support;

/// <summary>A fact that needs root (to give a file to another user).</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (Libc.GetEffectiveUserId() != 0)
            Skip = "needs root";
    }
}
