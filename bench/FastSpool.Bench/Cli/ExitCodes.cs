namespace FastSpool.Bench.Cli;

internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Some message was refused or failed, a delivery wait timed out, or idle sessions were lost.</summary>
    public const int Failed = 1;

    /// <summary>sysexits.h EX_USAGE.</summary>
    public const int Usage = 64;
}
