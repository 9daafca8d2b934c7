using System.Globalization;

namespace FastSpool.Bench.Stats;

/// <summary>
/// The once-a-second status on stderr: rewritten in place with '\r' on a terminal, one line per second otherwise
/// (so logs stay readable).
/// </summary>
internal sealed class ProgressLine(TextWriter output, bool overwrite)
{
    private int _lastLength;
    private bool _written;

    public void Show(FormattableString status)
    {
        string text = status.ToString(CultureInfo.InvariantCulture);
        if (overwrite)
        {
            output.Write("\r" + text.PadRight(_lastLength));
            _lastLength = text.Length;
        }
        else
        {
            output.WriteLine(text);
        }
        output.Flush();
        _written = true;
    }

    /// <summary>Ends the rewritten line so the summary starts on a fresh one.</summary>
    public void Finish()
    {
        if (overwrite && _written)
            output.WriteLine();
        _written = false;
        _lastLength = 0;
    }
}
