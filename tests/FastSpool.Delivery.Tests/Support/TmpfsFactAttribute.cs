namespace FastSpool.Delivery.Tests.Support;

/// <summary>A fact that mounts a <see cref="TinyTmpfs"/>; skipped where mounting is not permitted.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (!TinyTmpfs.CanMount)
            Skip = "mounting a tmpfs is not permitted here";
    }
}
