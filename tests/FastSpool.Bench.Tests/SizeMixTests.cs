using FastSpool.Bench.Messages;

namespace FastSpool.Bench.Tests;

public sealed class SizeMixTests
{
    [Fact]
    public void EveryRoundOfTheWeightsHoldsTheirExactShares()
    {
        var mix = new SizeMix([1024, 10240, 102400], [70, 25, 5]);
        for (int round = 0; round < 3; round++)
        {
            var counts = new int[3];
            for (long n = round * 100 + 1; n <= round * 100 + 100; n++)
                counts[mix.IndexFor(n)]++;
            Assert.Equal([70, 25, 5], counts);
        }
        Assert.Equal(0.70 * 1024 + 0.25 * 10240 + 0.05 * 102400, mix.MeanSize, 6);
    }

    [Fact]
    public void SmallSharesAreSpreadOutRatherThanBunched()
    {
        var mix = new SizeMix([1, 2], [9, 1]);
        int[] order = Enumerable.Range(1, 20).Select(n => mix.IndexFor(n)).ToArray();
        int[] positions = order.Select((size, i) => (size, i)).Where(p => p.size == 1).Select(p => p.i).ToArray();
        Assert.Equal(2, positions.Length);
        Assert.Equal(10, positions[1] - positions[0]);
    }

    [Fact]
    public void ASingleSizeIsAlwaysChosen()
    {
        SizeMix mix = SizeMix.Single(500);
        Assert.All(Enumerable.Range(1, 10), n => Assert.Equal(0, mix.IndexFor(n)));
        Assert.Equal("500", mix.ToString());
    }
}
