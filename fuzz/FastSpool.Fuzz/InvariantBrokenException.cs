namespace FastSpool.Fuzz;

internal sealed class InvariantBrokenException(string message) : Exception(message)
{
}
