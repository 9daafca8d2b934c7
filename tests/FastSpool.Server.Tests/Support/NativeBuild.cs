using System.Runtime.InteropServices;

namespace FastSpool.Server.Tests.Support;

/// <summary>The two programs as an installation has them: <c>fastspool</c> (src/FastSpool) and the
/// <c>fastspool-sendmail</c> client (src/FastSpool.Sendmail), each compiled ahead of time to native code by
/// <c>dotnet publish</c>, once per test run, into one directory of its own (their build outputs too, apart from the
/// tree's). The tests that run the server or its verbs as processes run these, not the JIT build.</summary>
internal static class NativeBuild
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(8);

    private static readonly Lazy<Task<string>> Root = new(() => Task.Run(CreateRoot));
    private static readonly Lazy<Task<string>> Server = new(() => PublishAsync("FastSpool", "fastspool"));
    private static readonly Lazy<Task<string>> Sendmail = new(() => PublishAsync("FastSpool.Sendmail", "fastspool-sendmail"));

    /// <summary>The path of the native <c>fastspool</c>, built on first use.</summary>
    public static Task<string> FastSpoolAsync() => Server.Value;

    /// <summary>The path of the native <c>fastspool-sendmail</c>, built on first use; the native <c>fastspool</c>
    /// is beside it (the client runs it for -bp and -q).</summary>
    public static async Task<string> SendmailAsync()
    {
        Task<string> server = Server.Value; // the two publish at once
        string client = await Sendmail.Value;
        await server;
        return client;
    }

    private static string CreateRoot()
    {
        string root = Directory.CreateTempSubdirectory("fastspool-native-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "bin"));
        // Other users run them (the tests as nobody): the temporary directory is 0700.
        foreach (string path in (string[])[root, Path.Combine(root, "bin")])
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return root;
    }

    private static async Task<string> PublishAsync(string projectName, string programName)
    {
        string root = await Root.Value;
        string project = Path.Combine(RepositoryRoot(), "src", projectName, projectName + ".csproj");
        string output = Path.Combine(root, "bin");
        CliResult result = await ChildProcess.RunAsync("dotnet",
            ["publish", project, "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier, "-o", output,
             "--artifacts-path", Path.Combine(root, "artifacts-" + programName), "-nologo"],
            input: null, environment: null, workingDirectory: root, PublishTimeout);
        string program = Path.Combine(output, programName);
        Assert.True(result.Code == 0 && File.Exists(program), $"publishing {programName} as native code failed (it needs clang and zlib1g-dev): " + result);
        // The test process's umask (the in-process servers') leaves the program 0700.
        File.SetUnixFileMode(program, (UnixFileMode)0b111_101_101);
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
