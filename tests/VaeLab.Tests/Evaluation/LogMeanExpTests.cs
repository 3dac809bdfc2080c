using VaeLab.Evaluation;
using static TorchSharp.torch;

namespace VaeLab.Tests.Evaluation;

public class LogMeanExpTests
{
    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(2, 0.6816901138162095)]   // 1 − 1/π, exact
    [InlineData(8, 0.37289714328672874)]  // scipy.integrate.quad of k φ Φ^(k−1)
    [InlineData(16, 0.2950098090103195)]
    [InlineData(100, 0.18440481358582694)]
    public void TheVarianceOfTheLargestOfKNormalsMatchesScipy(int k, double expected) =>
        Assert.Equal(expected, LogMeanExp.MaximumOfNormalsVariance(k), 5);

    [Fact]
    public void EqualWeightsHaveNoVarianceAndTheMeanIsExact()
    {
        using Tensor logWeights = full(new long[] { 3, 16 }, -7.25, ScalarType.Float64);
        var (logMean, variance) = LogMeanExp.Of(logWeights);
        Assert.Equal(-7.25, logMean[0].item<double>(), 12);
        Assert.Equal(0, variance.max().item<double>(), 12);
    }

    [Fact]
    public void HeavyTailedWeightsGetAStandardErrorCloseToTheSpreadOfRepeatedDraws()
    {
        // log w ~ N(0, 2²), k = 16: the log-mean-exp's true standard deviation is 0.809 (10⁵ simulated draws); the delta
        // method alone reports about 0.52. The estimate must not be optimistic by more than 10 %, nor pessimistic by more than 60 %.
        using var generator = new Generator(4);
        using Tensor logWeights = randn(new long[] { 20_000, 16 }, ScalarType.Float64, generator: generator).mul(2);
        var (logMean, variance) = LogMeanExp.Of(logWeights);
        double spread = logMean.std().item<double>(), reported = variance.mean().sqrt().item<double>();
        Assert.InRange(spread, 0.78, 0.84);
        Assert.InRange(reported / spread, 0.9, 1.6);
    }
}
