namespace FastSpool.Queue;

public enum MessageControlAction : byte
{
    Hold = 1,
    Release = 2,
    DelayWarned = 3,
}
