namespace FastSpool.Tests;

/// <summary>A fact that needs root: to give a file to another user, or to make login accounts. Linked into every
/// test project (tests/Directory.Build.props).</summary>
internal sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
            Skip = "needs root";
    }
}
