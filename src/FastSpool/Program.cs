return FastSpool.Cli.Entry.Run(args);
