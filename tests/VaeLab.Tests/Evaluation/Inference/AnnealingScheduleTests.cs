using VaeLab.Evaluation.Inference;

namespace VaeLab.Tests.Evaluation.Inference;

public class AnnealingScheduleTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(1000)]
    public void RunsFromZeroToOneStrictlyIncreasingAndSymmetric(int distributions)
    {
        double[] betas = AnnealingSchedule.Sigmoid(distributions);
        Assert.Equal(distributions + 1, betas.Length);
        Assert.Equal(0, betas[0]);
        Assert.Equal(1, betas[^1]);
        for (int t = 1; t <= distributions; t++)
        {
            Assert.True(betas[t] > betas[t - 1], $"β_{t} = {betas[t]} ≤ β_{t - 1} = {betas[t - 1]}");
            Assert.Equal(1, betas[t] + betas[distributions - t], 12);
        }
    }

    [Fact]
    public void SpendsMoreDistributionsNearTheEndsThanInTheMiddle()
    {
        double[] betas = AnnealingSchedule.Sigmoid(100);
        Assert.True(betas[1] - betas[0] < betas[51] - betas[50]);
        Assert.Equal(0.5, betas[50], 12);
    }

    [Fact]
    public void RefusesBadSettings()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AnnealingSchedule.Sigmoid(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => AnnealingSchedule.Sigmoid(10, 0));
    }
}
