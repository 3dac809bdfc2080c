using VaeLab.Data;
using VaeLab.Data.Synthetic;

namespace VaeLab.Tests.Data.Synthetic;

public class PinwheelTests
{
    [Fact]
    public void SameSeedSamePointsOtherSeedOtherPoints()
    {
        using Dataset a = Pinwheel.Generate(500, seed: 1);
        using Dataset b = Pinwheel.Generate(500, seed: 1);
        using Dataset c = Pinwheel.Generate(500, seed: 2);
        Assert.Equal(new long[] { 500, 2 }, a.Examples.shape);
        Assert.True(TensorAssert.Identical(a.Examples, b.Examples));
        Assert.False(TensorAssert.Identical(a.Examples, c.Examples));
    }

    [Fact]
    public void FactorsComeBackAndDetermineThePoints()
    {
        using Dataset data = Pinwheel.Generate(1000, seed: 3, arms: 4);
        Assert.Equal(new[] { "arm", "radius" }, data.FactorNames);
        Assert.Equal(new long[] { 1000, 2 }, data.Factors!.shape);
        Assert.True(TensorAssert.Identical(data.Labels!.to_type(ScalarType.Float32), data.Factors[.., 0]));
        Assert.Equal(Enumerable.Repeat(250L, 4), data.Labels.bincount(null).data<long>().ToArray());
        // The distance from the origin is the radial factor up to the small tangential spread.
        using var distance = data.Examples.norm(1);
        using var gap = (distance - data.Factors[.., 1].abs()).abs().max();
        Assert.True(gap.item<float>() < 0.25f, $"max gap {gap.item<float>()}");
    }
}
