using System.CommandLine;
using FastSpool.Configuration;
using FastSpool.Users;

namespace FastSpool.Cli;

/// <summary><c>fastspool check</c>, like <c>postconf -n</c>: checks the configuration and the aliases file, and prints
/// the effective settings that differ from the defaults as <c>Key = value</c>. Exit 0, or 78 with the errors.</summary>
internal static class CheckCommand
{
    public static Command Create(CliContext context)
    {
        var check = new Command("check", "Check the configuration and the aliases; print the settings that differ from the defaults");
        check.SetAction(result =>
        {
            if (!context.TryLoadOptions(result, out FastSpoolOptions? options, out int exitCode))
                return exitCode;
            // The data directory's aliases, and with Users:System the host's, as the server reads them.
            var aliasErrors = new List<string>();
            try
            {
                aliasErrors.AddRange(new AliasTable(options.DataDirectory).Warnings);
                if (options.Users.System)
                    aliasErrors.AddRange(AliasTable.FromFile(options.Users.SystemAliasesFile).Warnings);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                aliasErrors.Add(e.Message);
            }
            if (aliasErrors.Count > 0)
            {
                foreach (string error in aliasErrors)
                    context.Fail(ExitCode.Config, error); // each names the file and the line
                return ExitCode.Config;
            }
            foreach ((string key, string value) in Changed(options))
                context.Terminal.Out.WriteLine($"{key} = {value}");
            return ExitCode.Ok;
        });
        return check;
    }

    /// <summary>The settings that differ from a configuration with no settings; paths derived from the data
    /// directory (the mail directory) count as changed only when they are not derived.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Changed(FastSpoolOptions options)
    {
        var defaults = new FastSpoolOptions();
        defaults.ApplyDefaults();
        var derived = new FastSpoolOptions { DataDirectory = options.DataDirectory };
        derived.ApplyDefaults();
        Dictionary<string, string> plain = OptionsSchema.Flatten(defaults).ToDictionary();
        Dictionary<string, string> relative = OptionsSchema.Flatten(derived).ToDictionary();
        foreach ((string key, string value) in OptionsSchema.Flatten(options))
        {
            if (value != plain[key] && (key == nameof(FastSpoolOptions.DataDirectory) || value != relative[key]))
                yield return new(key, value);
        }
    }
}
