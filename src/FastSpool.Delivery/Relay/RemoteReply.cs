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
        string first = space < 0 ? Text : Text[..space];
        string[] parts = first.Split('.');
        bool enhanced = parts.Length == 3 && parts[0].Length == 1 && parts[0][0] == (char)('0' + (cls == 3 ? 2 : cls))
            && parts[1].Length is >= 1 and <= 3 && parts[2].Length is >= 1 and <= 3
            && parts[1].All(char.IsAsciiDigit) && parts[2].All(char.IsAsciiDigit);
        return enhanced ? (first, space < 0 ? "" : Text[(space + 1)..]) : (generic, Text);
    }
}
