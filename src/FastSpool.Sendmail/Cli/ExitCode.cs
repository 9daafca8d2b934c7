namespace FastSpool.Cli;

/// <summary>sysexits.h codes, as sendmail's tools use them.</summary>
internal static class ExitCode
{
    public const int Ok = 0;

    /// <summary>EX_USAGE: bad arguments; the usage is printed.</summary>
    public const int Usage = 64;

    public const int DataError = 65;

    /// <summary>EX_NOINPUT: a queue id that the queue does not hold (the verb still acted on the others).</summary>
    public const int NoInput = 66;

    /// <summary>EX_NOUSER: sendmail, every recipient refused as unknown.</summary>
    public const int NoUser = 67;

    /// <summary>EX_UNAVAILABLE: the server is not running, or its queue manager is not available.</summary>
    public const int Unavailable = 69;

    public const int Software = 70;
    /// <summary>EX_CANTCREAT: the data directory cannot be written.</summary>
    public const int CantCreate = 73;

    public const int IoError = 74;
    public const int TempFail = 75;

    /// <summary>EX_NOPERM: the control socket is for root and the server's user only.</summary>
    public const int NoPermission = 77;

    public const int Config = 78;
}
