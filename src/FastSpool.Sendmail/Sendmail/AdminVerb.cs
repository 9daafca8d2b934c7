namespace FastSpool.Cli.Sendmail;

/// <summary>Runs a verb of the <c>fastspool</c> command (<c>mailq</c>, <c>flush</c>) for sendmail's -bp and -q:
/// inside <c>fastspool</c> itself, its own command line; in the native sendmail client, the <c>fastspool</c>
/// program beside it. Returns the exit code.</summary>
internal delegate int AdminVerb(string[] args, Terminal terminal);
