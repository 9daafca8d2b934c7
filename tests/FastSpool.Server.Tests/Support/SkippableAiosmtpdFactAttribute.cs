namespace FastSpool.Server.Tests.Support;

/// <summary>A test that needs Python's aiosmtpd (Debian's python3-aiosmtpd; .ci/run installs it): skipped, with the
/// reason, where it is missing.</summary>
internal sealed class SkippableAiosmtpdFactAttribute : FactAttribute
{
    public SkippableAiosmtpdFactAttribute()
    {
        if (!Aiosmtpd.IsInstalled)
            Skip = "python3-aiosmtpd is not installed (apt-get install python3-aiosmtpd)";
    }
}
