using VaeLab.Objectives;

namespace VaeLab.Tests.Objectives;

public class ObjectiveOptionsTests
{
    [Fact]
    public void WarmUpRampsBetaLinearlyFromZeroToItsValue()
    {
        var options = new ObjectiveOptions(Beta: 4, WarmupSteps: 100);
        Assert.Equal(0.04, options.BetaAt(0), 12);
        Assert.Equal(2.0, options.BetaAt(49), 12);
        Assert.Equal(4.0, options.BetaAt(99), 12);
        Assert.Equal(4.0, options.BetaAt(10_000), 12);
        Assert.Equal(4.0, new ObjectiveOptions(Beta: 4).BetaAt(0));
    }

    [Fact]
    public void CapacityGrowsLinearlyToItsMaximum()
    {
        var options = new ObjectiveOptions(ObjectiveKind.Capacity, CapacityMaxNats: 25, CapacitySteps: 1000);
        Assert.Equal(12.5, options.CapacityAt(499), 12);
        Assert.Equal(25, options.CapacityAt(5000), 12);
    }

    [Theory]
    [InlineData(-1.0, 0, 5, "Beta")]
    [InlineData(1.0, -1, 5, "WarmupSteps")]
    [InlineData(1.0, 0, 0, "IwaeSamples")]
    public void InvalidSettingsAreNamed(double beta, long warmup, int k, string name)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ObjectiveOptions(Beta: beta, WarmupSteps: warmup, IwaeSamples: k).Validate());
        Assert.Equal(name, error.ParamName);
    }
}
