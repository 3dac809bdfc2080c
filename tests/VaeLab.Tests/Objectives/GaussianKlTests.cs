using VaeLab.Objectives;

namespace VaeLab.Tests.Objectives;

public class GaussianKlTests
{
    [Fact]
    public void AnalyticKlMatchesAMonteCarloEstimateWithinFourStandardErrors()
    {
        using var generator = new Generator(7);
        using var mean = tensor(new double[] { 0.5, -1.2, 2.0 }).view(1, 3);
        using var logVariance = tensor(new double[] { -0.7, 0.4, -2.0 }).view(1, 3);
        double analytic = GaussianKl.ToStandardNormal(mean, logVariance).item<double>();

        // log q(z) − log p(z) at z ~ q, in float64, written out independently of the library.
        const int n = 200_000;
        using var epsilon = randn(new long[] { n, 3 }, ScalarType.Float64, generator: generator);
        using var sigma = logVariance.mul(0.5).exp();
        using var z = mean + sigma * epsilon;
        using var logQ = (epsilon.square() + logVariance + Math.Log(2 * Math.PI)).sum(1).mul(-0.5);
        using var logP = (z.square() + Math.Log(2 * Math.PI)).sum(1).mul(-0.5);
        using var difference = logQ - logP;
        double estimate = difference.mean().item<double>();
        double standardError = difference.std().item<double>() / Math.Sqrt(n);
        Assert.InRange(analytic, estimate - 4 * standardError, estimate + 4 * standardError);
        Assert.True(standardError < 0.01, $"standard error {standardError} too large to mean anything");
    }

    [Fact]
    public void KlIsZeroExactlyAtTheStandardNormalAndPositiveElsewhere()
    {
        using var zero = zeros(4, 5, dtype: ScalarType.Float64);
        Assert.Equal(0.0, GaussianKl.ToStandardNormal(zero, zero).abs().max().item<double>());
        using var generator = new Generator(3);
        using var mean = randn(new long[] { 100, 5 }, ScalarType.Float64, generator: generator);
        using var logVariance = randn(new long[] { 100, 5 }, ScalarType.Float64, generator: generator);
        Assert.True(GaussianKl.PerDimension(mean, logVariance).min().item<double>() >= 0);
    }

    [Fact]
    public void KlMatchesTheClosedFormWrittenOut()
    {
        // ½ (μ² + σ² − 1 − log σ²) for μ = 1, log σ² = ln 4: ½ (1 + 4 − 1 − ln 4).
        using var mean = tensor(new double[] { 1.0 }).view(1, 1);
        using var logVariance = tensor(new double[] { Math.Log(4) }).view(1, 1);
        Assert.Equal(0.5 * (4 - Math.Log(4)), GaussianKl.ToStandardNormal(mean, logVariance).item<double>(), 12);
    }
}
