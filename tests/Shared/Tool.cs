using System.Diagnostics;

namespace FastSpool.Tests;

/// <summary>Runs a system command (ln, mkfifo, chown, mount, setpriv, useradd) that .NET has no API for. Linked into every
/// test project (tests/Directory.Build.props).</summary>
internal static class Tool
{
    public static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)!;
        process.StandardInput.Close(); // nothing to read: a command that reads its input sees the end at once
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    public static void RunOrFail(string file, params string[] arguments)
    {
        (int exitCode, string output) = Run(file, arguments);
        Assert.True(exitCode == 0, $"{file} {string.Join(' ', arguments)} failed: {output}");
    }

    public static bool Exists(string file)
    {
        try
        {
            return Run(file, "--version").ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
