using FastSpool.Configuration;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace FastSpool.Cli;

/// <summary>Builds the options from, in rising priority: built-in defaults, the JSON file (see
/// <see cref="FindConfigFile"/>), FASTSPOOL__Section__Key environment variables, and --Section:Key=value
/// arguments (--data DIR is short for --DataDirectory=DIR).</summary>
internal static class Settings
{
    /// <summary>The variable that names the configuration file when --config does not.</summary>
    public const string ConfigVariable = "FASTSPOOL_CONFIG";

    /// <summary>The configuration file of a system installation, read when nothing else names one.</summary>
    public const string SystemConfigFile = "/etc/fastspool/fastspool.json";

    public static FastSpoolOptions Load(List<string> args) => Load(args, SystemConfigFile);

    /// <param name="systemConfigFile">The last place looked in (tests point it elsewhere).</param>
    public static FastSpoolOptions Load(List<string> args, string systemConfigFile)
    {
        string? configFile = TakeValue(args, "--config");
        string? data = TakeValue(args, "--data");
        var builder = new ConfigurationBuilder();
        if (FindConfigFile(configFile, Environment.GetEnvironmentVariable(ConfigVariable), systemConfigFile) is { } file)
            builder.AddJsonFile(file, optional: false);
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
        IConfigurationRoot configuration;
        try
        {
            configuration = builder.Build();
        }
        catch (InvalidDataException e)
        {
            throw new SettingsException(JsonError(e), e);
        }
        List<string> errors = [];
        foreach (IConfigurationSection section in configuration.GetChildren())
            CheckShape(section, typeof(FastSpoolOptions), errors);
        if (errors.Count > 0)
            throw new SettingsException(string.Join(Environment.NewLine, errors));
        try
        {
            configuration.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new SettingsException(BindError(e), e);
        }
        options.ApplyDefaults();
        errors = OptionsValidator.Validate(options);
        if (errors.Count > 0)
            throw new SettingsException(string.Join(Environment.NewLine, errors));
        return options;
    }

    /// <summary>The JSON file every verb reads, found the same way from any working directory (programs run
    /// sendmail from anywhere): <c>--config FILE</c>, else <c>$FASTSPOOL_CONFIG</c>, else <c>./fastspool.json</c>, else
    /// <c>/etc/fastspool/fastspool.json</c>; none is not an error (the defaults apply). A file named by --config or
    /// the variable must exist.</summary>
    public static string? FindConfigFile(string? option, string? variable, string systemConfigFile)
    {
        if (option is not null)
        {
            return File.Exists(option) ? Path.GetFullPath(option)
                : throw new SettingsException($"--config: {option} does not exist");
        }
        if (!string.IsNullOrEmpty(variable))
        {
            return File.Exists(variable) ? Path.GetFullPath(variable)
                : throw new SettingsException($"{ConfigVariable}: {variable} does not exist");
        }
        if (File.Exists("fastspool.json"))
            return Path.GetFullPath("fastspool.json");
        return File.Exists(systemConfigFile) ? systemConfigFile : null;
    }

    /// <summary>Unknown keys (with the nearest known one) and values of the wrong shape, which the binder would
    /// otherwise skip in silence: a string where a list is expected, a section where a value is.</summary>
    private static void CheckShape(IConfigurationSection section, Type parent, List<string> errors)
    {
        PropertyInfo? key = OptionsSchema.Find(parent, section.Key);
        if (key is null)
        {
            string? nearest = OptionsSchema.Nearest(section.Path);
            errors.Add($"{section.Path}: unknown key" + (nearest is null ? "" : $" (did you mean {nearest}?)"));
            return;
        }
        List<IConfigurationSection> children = [.. section.GetChildren()];
        switch (OptionsSchema.ShapeOf(key.PropertyType))
        {
            case OptionShape.Value when children.Count > 0:
                errors.Add($"{section.Path}: expected one value, not a list or a section");
                break;
            case OptionShape.List when children.Count == 0 && !string.IsNullOrEmpty(section.Value):
                errors.Add($"{section.Path}: expected a list, such as [ \"{section.Value}\" ], not a string");
                break;
            case OptionShape.List:
                foreach (IConfigurationSection entry in children)
                {
                    if (!int.TryParse(entry.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                        errors.Add($"{entry.Path}: a list takes entries numbered 0, 1, ..., not '{entry.Key}'");
                    else if (entry.GetChildren().Any())
                        errors.Add($"{entry.Path}: expected a string, not a list or a section");
                }
                break;
            case OptionShape.Section when children.Count == 0 && !string.IsNullOrEmpty(section.Value):
                errors.Add($"{section.Path}: expected a section of keys, not a value");
                break;
            case OptionShape.Section:
                foreach (IConfigurationSection child in children)
                    CheckShape(child, key.PropertyType, errors);
                break;
        }
    }

    /// <summary>Where the JSON file is broken: <c>fastspool.json: not valid JSON at line 3, column 5</c>.</summary>
    private static string JsonError(InvalidDataException e)
    {
        Exception? inner = e;
        while (inner is not null and not JsonException)
            inner = inner.InnerException;
        if (inner is JsonException { LineNumber: long line, BytePositionInLine: long column } json)
        {
            string what = json.Message;
            int cut = what.IndexOf(" Path:", StringComparison.Ordinal) is >= 0 and var p ? p : what.IndexOf(" LineNumber:", StringComparison.Ordinal);
            return $"configuration file: not valid JSON at line {line + 1}, column {column + 1}: {(cut >= 0 ? what[..cut] : what)}";
        }
        return "configuration file: " + e.Message;
    }

    /// <summary>The binder's "Failed to convert configuration value '...' at 'Smtp:Timeout' to type
    /// 'System.TimeSpan'", said with the key first.</summary>
    private static string BindError(InvalidOperationException e)
    {
        Match m = Regex.Match(e.Message, "value '(?<value>.*)' at '(?<key>[^']+)' to type '(?:System\\.)?(?<type>[^']+)'");
        return m.Success ? $"{m.Groups["key"].Value}: '{m.Groups["value"].Value}' is not a {TypeName(m.Groups["type"].Value)}" : e.Message;
    }

    private static string TypeName(string type) => type switch
    {
        "TimeSpan" => "time span (hh:mm:ss or d.hh:mm:ss)",
        "Int32" or "Int64" => "whole number",
        "Boolean" => "boolean (true or false)",
        _ => type,
    };

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
