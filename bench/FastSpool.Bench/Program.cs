// A socket read's continuation only parses a reply and starts the next write, so it runs on the epoll thread
// instead of hopping to the thread pool: about a third of the generator's CPU per message, leaving the cores to the
// server under test. Read once, at the first socket operation; an explicit setting wins.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
return await FastSpool.Bench.Cli.BenchCommand.RunAsync(args, Console.Out, Console.Error, overwriteProgress: !Console.IsErrorRedirected);
