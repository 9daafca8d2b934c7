namespace FastSpool.Core.Tests;

public sealed class BoundedPoolTests
{
    [Fact]
    public void ReturnedObjectsAreReusedUpToTheCapacityAndNoMore()
    {
        int created = 0;
        var pool = new BoundedPool<object>(() => { created++; return new object(); }, capacity: 2);
        object a = pool.Rent(), b = pool.Rent(), c = pool.Rent();
        Assert.Equal(3, created);

        pool.Return(a);
        pool.Return(b);
        pool.Return(c); // over the capacity: dropped
        object[] again = [pool.Rent(), pool.Rent(), pool.Rent()];
        Assert.Equal(4, created);
        Assert.Contains(a, again);
        Assert.Contains(b, again);
        Assert.DoesNotContain(c, again);
    }
}
