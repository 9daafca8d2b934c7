namespace FastSpool.Queue;

/// <summary>A message's body written again at the log's tail: its new chunks and the last part, which goes inline in
/// the envelope copy (<see cref="MailQueue.TryAppendCopyEnvelope"/>).</summary>
public sealed record MessageCopy(long[] Chunks, byte[] Tail);
