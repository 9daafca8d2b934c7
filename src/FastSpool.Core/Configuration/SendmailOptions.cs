namespace FastSpool.Configuration;

/// <summary>Configuration section <c>Sendmail</c>: how <c>fastspool sendmail</c> hands mail to the running server.</summary>
public sealed class SendmailOptions
{
    /// <summary>The submission socket, open to every local user: SMTP over a Unix socket, where the server takes the
    /// submitter's uid from the kernel (SO_PEERCRED). It must lie outside the data directory, which is private;
    /// default: <c>DataDirectory.sendmail.sock</c> beside it.</summary>
    public string? Socket { get; set; }

    /// <summary>The maildrop of local users who are neither root nor the server's user, for while the server is not
    /// running: a directory of mode 1733 owned by the server's user (anyone may add a file; nobody else may list the
    /// directory, or remove or rename another's file), outside the private data directory; default
    /// <c>DataDirectory.maildrop</c> beside it. <c>none</c>: no such maildrop (those users get exit 75 while the
    /// server is down).</summary>
    public string? SharedMaildrop { get; set; }

    /// <summary>How often the server looks into <c>DataDirectory/maildrop</c> on its own (it also does at start, on
    /// SIGHUP and on <c>flush</c>); zero: only then.</summary>
    public TimeSpan MaildropPollInterval { get; set; } = TimeSpan.FromSeconds(10);
}
