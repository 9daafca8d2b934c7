using SharpFuzz;

namespace FastSpool.Fuzz;

/// <summary>The fuzzing targets by name. <c>FastSpool.Fuzz TARGET</c> runs one under afl-fuzz (input on standard
/// input, AFL's fork server in the process); <c>FastSpool.Fuzz TARGET FILE...</c> runs it once on each file, to
/// replay a finding; <c>FastSpool.Fuzz seeds DIR</c> writes starting inputs for each target into DIR/TARGET. A target fails by throwing: a parser that throws where it should answer, or a broken
/// invariant (<see cref="FuzzAssert"/>).</summary>
internal static class FuzzTargets
{
    private static readonly Dictionary<string, Action<byte[], int>> Targets = new(StringComparer.Ordinal)
    {
        ["smtp-command"] = (data, length) => SmtpCommandTarget.Run(data.AsSpan(0, length)),
        ["message-text"] = (data, length) => MessageTextTarget.Run(data.AsSpan(0, length)),
        ["xtext"] = (data, length) => XtextTarget.Run(data.AsSpan(0, length)),
        ["queue-record"] = (data, length) => QueueRecordTarget.Run(data.AsSpan(0, length)),
        ["aliases"] = (data, length) => AliasesTarget.Run(data.AsSpan(0, length)),
    };

    public static int Run(string[] args)
    {
        if (args is ["seeds", string directory])
        {
            Seeds.Write(directory);
            return 0;
        }
        if (args.Length == 0 || !Targets.TryGetValue(args[0], out Action<byte[], int>? target))
        {
            Console.Error.WriteLine($"usage: FastSpool.Fuzz TARGET [FILE...] | seeds DIRECTORY; targets: {string.Join(", ", Targets.Keys)}");
            return 64;
        }
        if (args.Length > 1)
        {
            foreach (string file in args.AsSpan(1))
            {
                byte[] data = File.ReadAllBytes(file);
                target(data, data.Length);
            }
            return 0;
        }
        byte[] buffer = new byte[1 << 20];
        // Out of process: a stack overflow or a fail-fast in a target is a finding, not the end of the fork server.
        Fuzzer.OutOfProcess.Run(stream =>
        {
            int length = 0;
            int read;
            while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
                length += read;
            target(buffer, length);
        });
        return 0;
    }
}
