using System.Globalization;
using System.Text;

namespace FastSpool.Bench.Messages;

/// <summary>
/// Body sizes with weights. Message <c>n</c> gets the size at slot <c>(n - 1) mod W</c> of a smooth weighted
/// round-robin order (W = the sum of the weights): every W consecutive messages hold exactly the weights' shares,
/// spread out rather than in runs, and the choice is a table lookup.
/// </summary>
internal sealed class SizeMix
{
    public const int MaxTotalWeight = 10_000;

    private readonly int[] _sizes;
    private readonly int[] _weights;
    private readonly int[] _order;

    public SizeMix(int[] sizes, int[] weights)
    {
        if (sizes.Length == 0 || sizes.Length != weights.Length)
            throw new ArgumentException("one weight per size, at least one size");
        _sizes = sizes;
        _weights = weights;
        _order = SmoothOrder(weights);
    }

    public static SizeMix Single(int size) => new([size], [1]);

    public int Count => _sizes.Length;

    public int SizeAt(int index) => _sizes[index];

    public int WeightAt(int index) => _weights[index];

    /// <summary>The index of the size of message <paramref name="number"/> (1-based).</summary>
    public int IndexFor(long number) => _order[(int)((number - 1) % _order.Length)];

    public double MeanSize
    {
        get
        {
            double sum = 0;
            for (int i = 0; i < _sizes.Length; i++)
                sum += (double)_sizes[i] * _weights[i];
            return sum / _order.Length;
        }
    }

    /// <summary><c>10240</c> for one size, <c>1024:70,10240:25,102400:5</c> for a mix (bytes).</summary>
    public override string ToString()
    {
        if (_sizes.Length == 1)
            return _sizes[0].ToString(CultureInfo.InvariantCulture);
        var text = new StringBuilder();
        for (int i = 0; i < _sizes.Length; i++)
        {
            if (i > 0)
                text.Append(',');
            text.Append(CultureInfo.InvariantCulture, $"{_sizes[i]}:{_weights[i]}");
        }
        return text.ToString();
    }

    // nginx's smooth weighted round-robin: each step every entry gains its weight, the largest is chosen and
    // loses the total.
    private static int[] SmoothOrder(int[] weights)
    {
        int total = 0;
        foreach (int w in weights)
            total += w;
        var order = new int[total];
        var current = new long[weights.Length];
        for (int slot = 0; slot < total; slot++)
        {
            int best = 0;
            for (int i = 0; i < weights.Length; i++)
            {
                current[i] += weights[i];
                if (current[i] > current[best])
                    best = i;
            }
            current[best] -= total;
            order[slot] = best;
        }
        return order;
    }
}
