using VaeLab.Models;

namespace VaeLab.Tests.Models;

/// <summary>Each likelihood against a float64 computation written out here, element by element.</summary>
public class LikelihoodTests
{
    const int N = 3, D = 5;

    static double[] Values(int count, int seed, double scale = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (random.NextDouble() * 2 - 1) * scale).ToArray();
    }

    static Tensor Matrix(double[] values, int columns) => tensor(values, new long[] { values.Length / columns, columns });

    [Fact]
    public void BernoulliOnLogitsMatchesTheMassWrittenOut()
    {
        double[] x = Values(N * D, 1).Select(v => v > 0 ? 1.0 : 0.0).ToArray();
        double[] logits = Values(N * D, 2, 4);
        using var likelihood = new BernoulliLikelihood();
        double[] actual = likelihood.LogProb(Matrix(x, D), Matrix(logits, D)).data<double>().ToArray();
        for (int n = 0; n < N; n++)
        {
            double expected = 0;
            for (int i = 0; i < D; i++)
            {
                double p = 1 / (1 + Math.Exp(-logits[n * D + i]));
                expected += x[n * D + i] * Math.Log(p) + (1 - x[n * D + i]) * Math.Log(1 - p);
            }
            Assert.Equal(expected, actual[n], 10);
        }
    }

    static double GaussianLogDensity(double x, double mean, double logSigma) =>
        -0.5 * Math.Log(2 * Math.PI) - logSigma - (x - mean) * (x - mean) / (2 * Math.Exp(2 * logSigma));

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.1)]
    public void FixedSigmaGaussianKeepsEveryConstant(double sigma)
    {
        double[] x = Values(N * D, 3), mean = Values(N * D, 4);
        using var likelihood = new GaussianLikelihood(GaussianVariance.Fixed, D, sigma);
        double[] actual = likelihood.LogProb(Matrix(x, D), Matrix(mean, D)).data<double>().ToArray();
        for (int n = 0; n < N; n++)
        {
            double expected = Enumerable.Range(0, D).Sum(i => GaussianLogDensity(x[n * D + i], mean[n * D + i], Math.Log(sigma)));
            Assert.Equal(expected, actual[n], 9);
        }
    }

    [Theory]
    [InlineData(GaussianVariance.LearnedShared)]
    [InlineData(GaussianVariance.LearnedPerDimension)]
    public void LearnedSigmaGaussianMatchesTheDensityAtItsBoundedSigma(GaussianVariance variance)
    {
        double[] x = Values(N * D, 5), mean = Values(N * D, 6);
        using var likelihood = new GaussianLikelihood(variance, D, sigma: 0.5);
        likelihood.to(ScalarType.Float64);
        // Move the raw parameters away from their start so per-dimension values differ.
        using (no_grad())
            foreach (var p in likelihood.parameters())
                p.add_(arange(p.shape[0], dtype: ScalarType.Float64).mul(0.3));
        using var output = Matrix(mean, D);
        double[] logSigma = likelihood.LogSigma(output).view(-1).data<double>().ToArray();
        Assert.All(logSigma, v => Assert.InRange(v, GaussianLikelihood.MinLogSigma, GaussianLikelihood.MaxLogSigma));
        double[] actual = likelihood.LogProb(Matrix(x, D), output).data<double>().ToArray();
        for (int n = 0; n < N; n++)
        {
            double expected = Enumerable.Range(0, D).Sum(i => GaussianLogDensity(x[n * D + i], mean[n * D + i], logSigma[logSigma.Length == 1 ? 0 : i]));
            Assert.Equal(expected, actual[n], 9);
        }
        Assert.Equal(variance == GaussianVariance.LearnedShared ? 1 : D, logSigma.Length);
    }

    [Fact]
    public void DecoderOutputSigmaUsesTheSecondHalfOfTheOutputAsBoundedLogSigma()
    {
        double[] x = Values(N * D, 7), output = Values(N * 2 * D, 8, 3);
        using var likelihood = new GaussianLikelihood(GaussianVariance.DecoderOutput, D);
        double[] actual = likelihood.LogProb(Matrix(x, D), Matrix(output, 2 * D)).data<double>().ToArray();
        double range = GaussianLikelihood.MaxLogSigma - GaussianLikelihood.MinLogSigma;
        for (int n = 0; n < N; n++)
        {
            double expected = 0;
            for (int i = 0; i < D; i++)
            {
                double raw = output[n * 2 * D + D + i];
                double logSigma = GaussianLikelihood.MinLogSigma + range / (1 + Math.Exp(-raw));
                expected += GaussianLogDensity(x[n * D + i], output[n * 2 * D + i], logSigma);
            }
            Assert.Equal(expected, actual[n], 9);
        }
        Assert.Equal(2, likelihood.OutputsPerDimension);
    }

    [Fact]
    public void SigmaOutsideTheBoundedRangeIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianLikelihood(GaussianVariance.Fixed, 4, sigma: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianLikelihood(GaussianVariance.LearnedShared, 4, sigma: 100));
    }
}
