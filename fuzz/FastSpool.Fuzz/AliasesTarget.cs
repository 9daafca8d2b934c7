using System.Text;
using FastSpool.Users;

namespace FastSpool.Fuzz;

/// <summary>An aliases file of any content: parsed into entries and warnings, never an exception; every entry has
/// at least one target and none is a command, file or include.</summary>
internal static class AliasesTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        string text = Encoding.UTF8.GetString(input);
        NameTable<string[]> table = AliasFileParser.Parse(text, "fuzz");
        foreach (string name in table.Names)
        {
            if (!table.TryGetValue(name, out string[]? targets))
                throw new InvariantBrokenException("a listed alias cannot be looked up: " + name);
            FuzzAssert.True(targets.Length > 0, "an alias without targets");
            foreach (string target in targets)
                FuzzAssert.True(target.Length > 0 && target[0] is not '|' and not '/', "an unsupported target kept: " + target);
        }
    }
}
