// RFC 1939 §3 (a keyword of 3-4 characters, arguments separated by one space, up to 40 characters each), §§5-7;
// RFC 2449 §4 (a command line of at most 255 octets with its CRLF); RFC 5034 §4 (AUTH mechanism [initial-response]).
using System.Buffers.Text;
using System.Text;

namespace FastSpool.Protocols.Pop3;

/// <summary>Parses one POP3 command line (without its CRLF, as <see cref="Smtp.CommandLineReader"/> splits it).
/// Pure and allocation-free: the argument is a slice of the line.</summary>
public static class Pop3CommandParser
{
    /// <summary>RFC 2449 §4: a command line is at most 255 octets, CRLF included.</summary>
    public const int MaxCommandLine = 255;

    /// <summary>Splits <paramref name="line"/> into its keyword and the rest. Leading and trailing spaces around the
    /// argument are dropped (clients such as some phones send <c>LIST </c>).</summary>
    public static Pop3Verb Parse(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> argument)
    {
        int space = line.IndexOf((byte)' ');
        ReadOnlySpan<byte> keyword = space < 0 ? line : line[..space];
        argument = space < 0 ? default : line[(space + 1)..].Trim((byte)' ');
        return keyword.Length switch
        {
            3 when Ascii.EqualsIgnoreCase(keyword, Pop3Literals.Top) => Pop3Verb.Top,
            4 => FourLetter(keyword),
            _ => Pop3Verb.Unknown,
        };
    }

    private static Pop3Verb FourLetter(ReadOnlySpan<byte> k) =>
        Ascii.EqualsIgnoreCase(k, Pop3Literals.Retr) ? Pop3Verb.Retr
        : Ascii.EqualsIgnoreCase(k, Pop3Literals.Dele) ? Pop3Verb.Dele
        : Ascii.EqualsIgnoreCase(k, Pop3Literals.List) ? Pop3Verb.List
        : Ascii.EqualsIgnoreCase(k, Pop3Literals.Uidl) ? Pop3Verb.Uidl
        : Ascii.EqualsIgnoreCase(k, Pop3Literals.Stat) ? Pop3Verb.Stat
        : Ascii.EqualsIgnoreCase(k, Pop3Literals.Quit) ? Pop3Verb.Quit
        : Ascii.EqualsIgnoreCase(k, Pop3Literals.User) ? Pop3Verb.User
        : Ascii.EqualsIgnoreCase(k, Pop3Literals.Pass) ? Pop3Verb.Pass
        : Ascii.EqualsIgnoreCase(k, Pop3Literals.Capa) ? Pop3Verb.Capa
        : Ascii.EqualsIgnoreCase(k, Pop3Literals.Auth) ? Pop3Verb.Auth
        : Ascii.EqualsIgnoreCase(k, Pop3Literals.Noop) ? Pop3Verb.Noop
        : Ascii.EqualsIgnoreCase(k, Pop3Literals.Rset) ? Pop3Verb.Rset
        : Ascii.EqualsIgnoreCase(k, Pop3Literals.Stls) ? Pop3Verb.Stls
        : Ascii.EqualsIgnoreCase(k, Pop3Literals.Apop) ? Pop3Verb.Apop
        : Pop3Verb.Unknown;

    /// <summary>A message number (RFC 1939 §5: decimal, 1 or more): digits only, no sign, no spaces, at most 9
    /// digits; the caller checks it against the maildrop.</summary>
    public static bool TryParseNumber(ReadOnlySpan<byte> text, out int number)
    {
        number = 0;
        if (text.IsEmpty || text.Length > 9 || text.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
            return false;
        return Utf8Parser.TryParse(text, out number, out int used) && used == text.Length;
    }

    /// <summary>TOP's two arguments, <c>msg n</c> (RFC 1939 §7): a message number and a count of lines, 0 or more.</summary>
    public static bool TryParseTop(ReadOnlySpan<byte> argument, out int message, out int lines)
    {
        lines = 0;
        int space = argument.IndexOf((byte)' ');
        if (space < 0)
        {
            message = 0;
            return false;
        }
        return TryParseNumber(argument[..space], out message) && TryParseNumber(argument[(space + 1)..], out lines);
    }

    /// <summary>AUTH's arguments (RFC 5034 §4): the mechanism, and the initial response if one follows (<c>=</c> for
    /// an empty one, which comes back as an empty, present response).</summary>
    public static void SplitAuth(ReadOnlySpan<byte> argument, out ReadOnlySpan<byte> mechanism, out ReadOnlySpan<byte> initialResponse, out bool hasInitialResponse)
    {
        int space = argument.IndexOf((byte)' ');
        mechanism = space < 0 ? argument : argument[..space];
        initialResponse = space < 0 ? default : argument[(space + 1)..];
        hasInitialResponse = space >= 0;
        if (hasInitialResponse && initialResponse.SequenceEqual("="u8))
            initialResponse = default;
    }

    /// <summary>Whether <paramref name="mechanism"/> is PLAIN, the one SASL mechanism offered.</summary>
    public static bool IsPlain(ReadOnlySpan<byte> mechanism) => Ascii.EqualsIgnoreCase(mechanism, Pop3Literals.Plain);
}
