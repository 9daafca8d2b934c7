using FastSpool.Configuration;
using FastSpool.Server.Logging;
using FastSpool.Server.Smtp;
using FastSpool.Server.Tls;
using FastSpool.Users;
using Microsoft.Extensions.Logging;

namespace FastSpool.Server;

/// <summary>What SIGHUP changes in a running server: the log level, the local domains, the SMTP limits, Relay:Networks,
/// the certificate's paths (where TLS was on at start), and the users and aliases (which are also reread within a
/// second of a change). Every other key is logged as changed but takes effect at the next start. <see cref="Running"/>
/// is the configuration in effect.</summary>
internal sealed class ReloadableParts(FastSpoolOptions running, ILoggerFactory loggers, SmtpServerContext smtp, DomainSet domains,
    UserStore users, AliasTable aliases, ServerCertificate? certificate = null)
{
    private readonly Lock _gate = new();
    private HashSet<string> _users = [.. users.List()];
    private HashSet<string> _aliases = [.. aliases.Names];

    public FastSpoolOptions Running { get; private set; } = running;

    /// <summary>Keys a reload applies; prefixes end with a colon. The certificate's paths only where TLS was on at
    /// start: turning it on or off changes what the listeners offer, which takes a restart.</summary>
    private bool IsLive(string key, FastSpoolOptions fresh) =>
        key is "LogLevel" or "LocalDomains" or "Relay:Networks"
        || (key is "Tls:Certificate" or "Tls:Key" && certificate is not null && fresh.Tls.Enabled && fresh.Tls.Key is not null)
        || (key.StartsWith("Smtp:", StringComparison.Ordinal) && key is not ("Smtp:Listen" or "Smtp:Hostname")
            && !key.StartsWith("Smtp:Submission", StringComparison.Ordinal));

    public void Reload(Func<(FastSpoolOptions? Options, string? Error)> load, ILogger log)
    {
        lock (_gate)
        {
            (FastSpoolOptions? fresh, string? error) = load();
            if (fresh is null)
            {
                log.LogError("reload: configuration error, the running configuration stays: {Error}", error);
                return;
            }
            int changes = 0;
            Dictionary<string, string> before = OptionsSchema.Flatten(Running).ToDictionary();
            foreach ((string key, string value) in OptionsSchema.Flatten(fresh))
            {
                if (before.TryGetValue(key, out string? old) && old == value)
                    continue;
                changes++;
                log.LogInformation("reload: {Key}: {Old} -> {New}{Later}", key, old, value, IsLive(key, fresh) ? "" : " (takes effect at restart)");
            }

            fresh.Smtp.Listen = Running.Smtp.Listen;
            fresh.Smtp.Submission = Running.Smtp.Submission;
            fresh.Smtp.SubmissionTls = Running.Smtp.SubmissionTls;
            fresh.Smtp.Hostname = Running.Smtp.Hostname;
            Running.Smtp = fresh.Smtp;
            Running.LogLevel = fresh.LogLevel;
            Running.LocalDomains = fresh.LocalDomains;
            domains.Replace(fresh.LocalDomains!);
            Running.Relay.Networks = fresh.Relay.Networks;
            smtp.Relay = new RelayPolicy(Running.Relay, domains);
            smtp.Options = fresh.Smtp;

            ChangeCertificatePaths(fresh.Tls);

            users.Refresh();
            aliases.Refresh();
            changes += LogNames("users", ref _users, users.List(), log) + LogNames("aliases", ref _aliases, aliases.Names, log);
            log.LogInformation("reload: done, {Changes} {What}", changes, changes == 1 ? "change" : "changes");
            // Last, so that the lines above are written at the level they were asked for under.
            if (LogLevelSwitch.Of(loggers) is { } level)
                level.Minimum = Enum.Parse<LogLevel>(fresh.LogLevel);
        }
    }

    /// <summary>Takes a certificate pair at new paths; one that does not load leaves the running pair and its paths.</summary>
    private void ChangeCertificatePaths(TlsOptions fresh)
    {
        if (certificate is null || fresh.Certificate is not { } certificatePath || fresh.Key is not { } keyPath
            || (certificatePath == Running.Tls.Certificate && keyPath == Running.Tls.Key))
        {
            return;
        }
        if (certificate.TryChangePaths(certificatePath, keyPath))
            (Running.Tls.Certificate, Running.Tls.Key) = (certificatePath, keyPath);
    }

    /// <summary>Logs the names that came and went since the last reload (the files are also reread on their own
    /// within a second of a change, so the running tables may be newer than the last such line); returns how many.</summary>
    private static int LogNames(string what, ref HashSet<string> known, IReadOnlyList<string> now, ILogger log)
    {
        HashSet<string> before = known;
        var after = new HashSet<string>(now, StringComparer.Ordinal);
        List<string> added = [.. after.Where(n => !before.Contains(n)).Order(StringComparer.Ordinal)];
        List<string> removed = [.. before.Where(n => !after.Contains(n)).Order(StringComparer.Ordinal)];
        if (added.Count > 0)
            log.LogInformation("reload: {What} added: {Names}", what, string.Join(", ", added));
        if (removed.Count > 0)
            log.LogInformation("reload: {What} removed: {Names}", what, string.Join(", ", removed));
        known = after;
        return added.Count + removed.Count;
    }
}
