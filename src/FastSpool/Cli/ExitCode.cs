namespace FastSpool.Cli;

/// <summary>sysexits.h codes, as sendmail's tools use them.</summary>
internal static class ExitCode
{
    public const int Ok = 0;
    public const int Usage = 64;
    public const int DataError = 65;
    public const int Software = 70;
    public const int IoError = 74;
    public const int TempFail = 75;
    public const int Config = 78;
}
