using System.Diagnostics;
using System.Text;

namespace FastSpool.Server.Tests.Support;

/// <summary>Reads an mbox file with Python's <c>mailbox</c> module, an independent reader that is strict about the
/// <c>From </c> lines (it decodes them as ASCII).</summary>
internal static class PythonMailbox
{
    /// <summary>Runs <paramref name="script"/> with the mailbox's path as its argument and returns its output lines;
    /// fails the test, with python's error output, when the script fails.</summary>
    public static async Task<string[]> RunAsync(string script, string mailboxPath)
    {
        var info = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            Environment = { ["PYTHONIOENCODING"] = "utf-8" },
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(mailboxPath);
        using Process python = Process.Start(info)!;
        Task<string> errors = python.StandardError.ReadToEndAsync();
        string output = await python.StandardOutput.ReadToEndAsync();
        await python.WaitForExitAsync();
        Assert.True(python.ExitCode == 0, "python3 could not read " + mailboxPath + ": " + await errors);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
