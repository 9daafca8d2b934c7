// RFC 1939 §3.
namespace FastSpool.Server.Pop3;

/// <summary>The states of a POP3 session.</summary>
internal enum Pop3State : byte
{
    Authorization,
    Transaction,
    Update,
}
