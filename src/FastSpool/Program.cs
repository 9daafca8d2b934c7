return FastSpool.Cli.CommandLine.Run(args);
