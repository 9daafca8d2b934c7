using System.Diagnostics;

namespace FastSpool.Server.Tests.Support;

/// <summary>Runs a program to its end with both outputs captured, within a deadline.</summary>
internal static class ChildProcess
{
    /// <summary>The built <c>fastspool</c> executable's path, to run with <c>dotnet</c>.</summary>
    public static string FastSpoolDll => Path.Combine(AppContext.BaseDirectory, "fastspool.dll");

    public static async Task<CliResult> RunAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
            info.ArgumentList.Add(arg);
        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        return new CliResult(process.ExitCode, await output, await error);
    }
}
