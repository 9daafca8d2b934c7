using FastSpool.Delivery.Transport;
using FastSpool.Queue;

namespace FastSpool.Delivery.Relay;

/// <summary>One reply of the smarthost: its code, and its text with the lines joined by spaces.</summary>
internal readonly record struct RemoteReply(int Code, string Text)
{
    public bool IsPositive => Code is >= 200 and < 400;

    /// <summary>The reply as a result for a recipient: sent, temporary or permanent by its first digit, with the enhanced
    /// status it carries (RFC 3463), or the class's generic one. <paramref name="peer"/> is logged as relay= and names the
    /// Remote-MTA of a notice.</summary>
    public DeliveryResult ToResult(string peer)
    {
        (string status, string text) = SplitStatus();
        var reply = new DeliveryReply(Code, status, text, peer);
        DeliveryResultKind kind = Code < 400 ? DeliveryResultKind.Sent : Code < 500 ? DeliveryResultKind.Temporary : DeliveryResultKind.Permanent;
        return new DeliveryResult(kind, reply);
    }

    private (string Status, string Text) SplitStatus()
    {
        int cls = Code / 100;
        string generic = cls is 2 or 3 ? "2.0.0" : cls == 4 ? "4.0.0" : "5.0.0";
        int space = Text.IndexOf(' ');
        ReadOnlySpan<char> first = space < 0 ? Text : Text.AsSpan(0, space);
        if (!IsEnhancedStatus(first, (char)('0' + (cls == 3 ? 2 : cls))))
            return (generic, Text);
        // The common replies' codes come from a table rather than a new string each.
        string status = first.SequenceEqual(generic) ? generic : first.ToString();
        return (status, space < 0 ? "" : Text[(space + 1)..]);
    }

    /// <summary>RFC 3463 §2: <c>class "." subject "." detail</c>, the class matching the reply's, subject and detail
    /// of one to three digits.</summary>
    private static bool IsEnhancedStatus(ReadOnlySpan<char> code, char cls)
    {
        if (code.Length < 5 || code[0] != cls || code[1] != '.')
            return false;
        ReadOnlySpan<char> rest = code[2..];
        int dot = rest.IndexOf('.');
        return dot is >= 1 and <= 3 && rest.Length - dot - 1 is >= 1 and <= 3
            && !rest[..dot].ContainsAnyExceptInRange('0', '9') && !rest[(dot + 1)..].ContainsAnyExceptInRange('0', '9');
    }
}
