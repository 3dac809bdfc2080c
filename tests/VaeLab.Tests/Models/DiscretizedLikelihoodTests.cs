using TorchSharp;
using VaeLab.Models;

namespace VaeLab.Tests.Models;

public class DiscretizedLikelihoodTests
{
    static readonly Tensor Pixels = arange(256, dtype: ScalarType.Float32).div(255).unsqueeze(1);

    [Theory]
    [InlineData(DiscretizedFamily.Gaussian)]
    [InlineData(DiscretizedFamily.Logistic)]
    public void InFloat32TheMassesSumToOneAndTheGradientsStayFiniteAtTheExtremes(DiscretizedFamily family)
    {
        var likelihood = new DiscretizedLikelihood(family, GaussianVariance.DecoderOutput, 1);
        foreach (float mean in new[] { -3f, -0.01f, 0f, 0.3f, 0.5f, 1f, 4f })
            foreach (float raw in new[] { -50f, -5f, 0f, 5f, 50f })
            {
                using Tensor output = tensor(new[] { mean, raw }).expand(256, 2).clone().requires_grad_();
                using Tensor logMass = likelihood.LogProb(Pixels, output);
                Assert.InRange(logMass.logsumexp(0).item<float>(), -2e-5f, 2e-5f);
                logMass.sum().backward();
                Assert.True(output.grad!.isfinite().all().item<bool>(), $"μ {mean}, raw log scale {raw}: a gradient is not finite");
            }
    }

    [Theory]
    [InlineData(DiscretizedFamily.Gaussian, 0.3, 0.05)]
    [InlineData(DiscretizedFamily.Logistic, 0.02, 0.03)]
    [InlineData(DiscretizedFamily.Gaussian, 0.95, 0.2)]
    public void SamplesFallInEachLevelWithItsMass(DiscretizedFamily family, double mean, double scale)
    {
        var likelihood = new DiscretizedLikelihood(family, GaussianVariance.Fixed, 1, initialScale: scale);
        likelihood.to(ScalarType.Float64);
        using Tensor pixels = Pixels.to_type(ScalarType.Float64);
        using Tensor masses = likelihood.LogProb(pixels, full(256, 1, mean, dtype: ScalarType.Float64)).exp();
        const int draws = 200_000;
        using var generator = new Generator(3);
        using Tensor samples = likelihood.Sample(full(draws, 1, mean, dtype: ScalarType.Float64), generator);
        using Tensor levels = samples.mul(255).round().to_type(ScalarType.Int64).view(-1);
        using Tensor frequencies = levels.bincount(null, 256).to_type(ScalarType.Float64).div(draws);
        using Tensor score = (frequencies - masses).abs() / (masses * (1 - masses) / draws).sqrt().clamp_min(1e-12);
        Assert.True(score.max().item<double>() < 5, $"a level's frequency is {score.max().item<double>():F1} standard errors from its mass");
        // Samples are data-like values k/255.
        Assert.True(samples.mul(255).sub(samples.mul(255).round()).abs().max().item<double>() < 1e-9);
    }

    [Fact]
    public void LogNormalCdfMatchesScipysLogNdtrInBothTails()
    {
        // scipy.special.log_ndtr (Debian's python3-scipy 1.10.1) at the same points, across both switch points of the branches.
        double[] z = [-60, -25, -20.0001, -19.999, -10.0001, -9.999, -3, 0, 2, 9];
        double[] scipy = [-1805.0135606805675, -316.63940800802027, -203.9191603513918, -203.8971061167971, -53.23229496478865,
                          -53.221187552555534, -6.60772622151035, -0.6931471805599453, -0.023012909328963486, -1.1285884059538324e-19];
        using Tensor points = tensor(z);
        double[] mine = DiscretizedLikelihood.LogNormalCdf(points).data<double>().ToArray();
        for (int i = 0; i < z.Length; i++)
            Assert.True(Math.Abs(mine[i] - scipy[i]) <= 1e-12 * Math.Max(1, Math.Abs(scipy[i])), $"log Φ({z[i]}) = {mine[i]}, scipy {scipy[i]}");
        using Tensor single = points.to_type(ScalarType.Float32);
        float[] inFloat32 = DiscretizedLikelihood.LogNormalCdf(single).data<float>().ToArray();
        for (int i = 0; i < z.Length; i++)
            Assert.True(Math.Abs(inFloat32[i] - scipy[i]) <= 2e-6 * Math.Max(1, Math.Abs(scipy[i])), $"float32 log Φ({z[i]}) = {inFloat32[i]}, scipy {scipy[i]}");
    }

    [Fact]
    public void ALearnedScaleIsOneParameterPerPixelAndTheSignatureNamesIt()
    {
        var perPixel = new DiscretizedLikelihood(DiscretizedFamily.Logistic, GaussianVariance.LearnedPerDimension, 784);
        Assert.Equal(784, perPixel.parameters().Single().numel());
        Assert.Equal(256, perPixel.DiscreteLevels);
        Assert.False(perPixel.IsContinuousDensity);
        Assert.Equal("discretized-logistic-256-learnedperdimension-784", perPixel.Signature);
        var shared = new DiscretizedLikelihood(DiscretizedFamily.Gaussian, GaussianVariance.LearnedShared, 784);
        Assert.Equal(1, shared.parameters().Single().numel());
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiscretizedLikelihood(DiscretizedFamily.Gaussian, GaussianVariance.Fixed, 4, initialScale: 20));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiscretizedLikelihood(DiscretizedFamily.Gaussian, GaussianVariance.Fixed, 4, levels: 1));
    }
}
