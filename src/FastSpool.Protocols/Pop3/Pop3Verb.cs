// RFC 1939 §§4-7 (commands), RFC 2449 §5 (CAPA), RFC 5034 §4 (AUTH).
namespace FastSpool.Protocols.Pop3;

/// <summary>The POP3 commands FastSpool knows.</summary>
public enum Pop3Verb : byte
{
    Unknown,
    User,
    Pass,
    Auth,
    Apop,
    Stls,
    Capa,
    Stat,
    List,
    Retr,
    Dele,
    Noop,
    Rset,
    Quit,
    Top,
    Uidl,
}
