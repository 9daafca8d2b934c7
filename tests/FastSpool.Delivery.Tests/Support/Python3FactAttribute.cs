namespace FastSpool.Delivery.Tests.Support;

/// <summary>A fact that needs python3, used as an independent process taking classic fcntl locks.</summary>
public sealed class Python3FactAttribute : FactAttribute
{
    private static readonly bool Available = Tool.Exists("python3");

    public Python3FactAttribute()
    {
        if (!Available)
            Skip = "python3 is not installed";
    }
}
