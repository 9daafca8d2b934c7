namespace FastSpool.Server.Admin;

/// <summary>The verbs of <c>POST /queue/VERB</c>, named as in the route.</summary>
internal enum ControlVerb
{
    Flush,
    Hold,
    Release,
    Requeue,
    Delete,
}
