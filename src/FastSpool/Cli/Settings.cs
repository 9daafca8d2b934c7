using FastSpool.Configuration;
using Microsoft.Extensions.Configuration;

namespace FastSpool.Cli;

/// <summary>Builds the options from, in rising priority: built-in defaults, the JSON file (--config FILE, or
/// ./fastspool.json when present), FASTSPOOL__Section__Key environment variables, and --Section:Key=value
/// arguments (--data DIR is short for --DataDirectory=DIR).</summary>
internal static class Settings
{
    public static FastSpoolOptions Load(List<string> args)
    {
        string? configFile = TakeValue(args, "--config");
        string? data = TakeValue(args, "--data");
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            if (!File.Exists(configFile))
                throw new SettingsException($"--config: {configFile} does not exist");
            builder.AddJsonFile(Path.GetFullPath(configFile), optional: false);
        }
        else if (File.Exists("fastspool.json"))
        {
            builder.AddJsonFile(Path.GetFullPath("fastspool.json"), optional: false);
        }
        builder.AddEnvironmentVariables("FASTSPOOL__");
        var keyed = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            if (IsKeyed(args[i]))
            {
                keyed.Add(args[i]);
                args.RemoveAt(i--);
            }
        }
        builder.AddCommandLine([.. keyed]);
        if (data is not null)
            builder.AddInMemoryCollection([new KeyValuePair<string, string?>("DataDirectory", data)]);

        var options = new FastSpoolOptions();
        try
        {
            builder.Build().Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new SettingsException(e.Message, e);
        }
        catch (InvalidDataException e)
        {
            throw new SettingsException("configuration file: " + e.Message, e);
        }
        options.ApplyDefaults();
        List<string> errors = OptionsValidator.Validate(options);
        if (errors.Count > 0)
            throw new SettingsException(string.Join(Environment.NewLine, errors));
        return options;
    }

    /// <summary>A <c>--Section:Key=value</c> (or <c>--Key=value</c>) argument.</summary>
    public static bool IsKeyed(string arg) =>
        arg.StartsWith("--", StringComparison.Ordinal) && (arg.Contains(':') || arg.Contains('='));

    private static string? TakeValue(List<string> args, string name)
    {
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == name)
            {
                if (i + 1 >= args.Count)
                    throw new SettingsException($"{name} needs a value");
                string value = args[i + 1];
                args.RemoveRange(i, 2);
                return value;
            }
            if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                string value = args[i][(name.Length + 1)..];
                args.RemoveAt(i);
                return value;
            }
        }
        return null;
    }
}
