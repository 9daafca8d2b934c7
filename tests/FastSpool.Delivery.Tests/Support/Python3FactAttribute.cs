namespace FastSpool.Delivery.Tests.Support;

/// <summary>A fact that needs python3, used as an independent process: one taking classic fcntl locks, or a
/// second mail parser.</summary>
public sealed class Python3FactAttribute : FactAttribute
{
    private static readonly bool Available = Tool.Exists("python3");

    public Python3FactAttribute()
    {
        if (!Available)
            Skip = "python3 is not installed";
    }
}
