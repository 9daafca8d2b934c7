using System.Diagnostics;

namespace FastSpool.Server.Tests.Support;

/// <summary>Runs a program to its end with both outputs captured, within a deadline.</summary>
internal static class ChildProcess
{
    /// <summary>The built <c>fastspool</c> executable's path, to run with <c>dotnet</c>.</summary>
    public static string FastSpoolDll => Path.Combine(AppContext.BaseDirectory, "fastspool.dll");

    public static Task<CliResult> RunAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null) =>
        RunAsync(file, args, input: null, environment: null, workingDirectory: null, timeout);

    /// <param name="input">Written to standard input, which is then closed; none (closed at once) when null.</param>
    /// <param name="environment">Variables set (or, with a null value, removed) for the child.</param>
    public static async Task<CliResult> RunAsync(string file, IEnumerable<string> args, string? input, IReadOnlyDictionary<string, string?>? environment,
        string? workingDirectory, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (string arg in args)
            info.ArgumentList.Add(arg);
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                info.Environment.Remove(name);
            else
                info.Environment[name] = value;
        }
        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (input is not null)
            await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        return new CliResult(process.ExitCode, await output, await error);
    }
}
