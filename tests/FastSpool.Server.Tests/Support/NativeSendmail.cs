using System.Runtime.InteropServices;

namespace FastSpool.Server.Tests.Support;

/// <summary>The native sendmail client, published ahead of time from src/FastSpool.Sendmail as an installation
/// publishes it, once per test run, into a directory of its own (its build output too, apart from the tree's). Beside
/// it, <c>fastspool</c> is a link to this build's full command, as an installation has the two side by side (the
/// client runs it for -bp and -q).</summary>
internal static class NativeSendmail
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(6);

    private static readonly Lazy<Task<string>> Published = new(PublishAsync);

    /// <summary>The path of the native <c>fastspool-sendmail</c>, built on first use.</summary>
    public static Task<string> PathAsync() => Published.Value;

    private static async Task<string> PublishAsync()
    {
        string project = Path.Combine(RepositoryRoot(), "src", "FastSpool.Sendmail", "FastSpool.Sendmail.csproj");
        string root = Directory.CreateTempSubdirectory("fastspool-native-").FullName;
        string output = Path.Combine(root, "bin");
        CliResult result = await ChildProcess.RunAsync("dotnet",
            ["publish", project, "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier, "-o", output,
             "--artifacts-path", Path.Combine(root, "artifacts"), "-nologo"],
            input: null, environment: null, workingDirectory: root, PublishTimeout);
        string program = Path.Combine(output, "fastspool-sendmail");
        Assert.True(result.Code == 0 && File.Exists(program), "publishing the native sendmail client failed (it needs clang): " + result);
        File.CreateSymbolicLink(Path.Combine(output, "fastspool"), Path.Combine(AppContext.BaseDirectory, "fastspool"));
        // Other users run it (the tests as nobody): the temporary directory is 0700, and the test process's umask
        // (the in-process servers') leaves the program 0700 too.
        foreach (string path in (string[])[root, output, program])
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return program;
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FastSpool.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException("FastSpool.sln not found above " + AppContext.BaseDirectory);
    }
}
